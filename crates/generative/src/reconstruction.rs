//! The training path `autoencoder` and `vae` share: one network, one optimizer, minibatches of
//! `[0, 1]` images, a loss per image. It runs on the trainer's custom loop, so a run has what
//! every burn-zoo run has: `config.json`, `metrics.csv` and curves, a checkpoint per epoch and
//! `--resume`, `model.bpk`, `report.json`; plus the model's pictures. The commands around it
//! (`eval`, `pictures`, `encode`, `probe`, `info`) are shared too.

use crate::pixels::{ImageDataArgs, epoch_batches, pixel_batch};
use crate::probe::{Codes, ProbeConfig, linear_probe};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use clap::{Args, Subcommand};
use datasets::{ImageSet, ImageShape, Split};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};
use trainer::classifier::{DataSpec, ScheduleKind};
use trainer::cli::{DeviceArgs, WeightsArgs};
use trainer::device::select_device;
use trainer::driver::{
    EpochResult, Plan, RunFlags, RunFolder, Select, Training, Validation, check_finite, fit,
    load_module, load_optimizer, save_module, save_optimizer,
};
use trainer::report::{git_commit, peak_rss_mib, rss_note};
use trainer::schedule::WarmupSchedule;

/// Per-image quantities of a batch, by name: each a `[batch]` tensor.
pub type Terms = Vec<(&'static str, Tensor<1>)>;

/// A model trained to reconstruct (or generate) images through a code.
pub trait Reconstruction: Module + Clone + std::fmt::Display + Sized + 'static {
    type Config: Args + Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;
    const NAME: &'static str;

    /// The model for images of `shape`; an error when the config does not fit them.
    fn new(config: &Self::Config, shape: ImageShape, device: &Device) -> anyhow::Result<Self>;
    fn recipe(config: &Self::Config) -> Recipe;
    /// The training loss of `images` (`[batch, c, h, w]` in `[0, 1]`), a mean per image to
    /// minimise, and the per-image terms to log and plot.
    fn objective(&self, images: Tensor<4>, config: &Self::Config) -> (Tensor<1>, Terms);
    /// Test-time quantities per image (on an inference copy of the model).
    fn evaluate(&self, images: Tensor<4>, config: &Self::Config) -> Terms;
    /// The code of each image: `[batch, latent]` (the posterior mean for a VAE).
    fn encode(&self, images: Tensor<4>) -> Tensor<2>;
    /// Writes the model's pictures of `test` into `dir`; returns their paths.
    fn pictures(
        &self,
        config: &Self::Config,
        test: &ImageSet,
        dir: &Path,
        seed: u64,
    ) -> anyhow::Result<Vec<PathBuf>>;
}

/// A model's default training settings.
#[derive(Clone, Copy, Debug)]
pub struct Recipe {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub schedule: ScheduleKind,
}

/// The commands of a reconstruction model's binary.
#[derive(Subcommand, Debug)]
pub enum Command<C: Args> {
    /// Train, writing metrics, checkpoints, weights, pictures and test figures to --out.
    Train(TrainArgs<C>),
    /// Test-set figures of saved weights.
    Eval(SavedArgs<C>),
    /// Write the model's pictures (beside the weights, or to --out).
    Pictures {
        #[command(flatten)]
        saved: SavedArgs<C>,
        /// Folder for the PNGs [default: beside --weights]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Codes of the test images (or --split train) to CSV: index, label, z0, z1, ...
    Encode {
        #[command(flatten)]
        saved: SavedArgs<C>,
        /// CSV to write [default: codes-<split>.csv beside --weights]
        #[arg(long)]
        output: Option<PathBuf>,
        /// Which split to encode
        #[arg(long, value_enum, default_value = "test")]
        split: SplitArg,
    },
    /// Linear probe: logistic regression on the frozen codes of the training images, scored on
    /// the test images.
    Probe {
        #[command(flatten)]
        saved: SavedArgs<C>,
        /// Probe training passes
        #[arg(long, default_value_t = 30)]
        probe_epochs: usize,
        /// Also probe the raw pixels, the baseline the codes should be compared with
        #[arg(long)]
        pixel_baseline: bool,
    },
    /// Parameter count and layers for the flags (or a saved config.json).
    Info {
        #[command(flatten)]
        data: ImageDataArgs,
        #[command(flatten)]
        model: C,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SplitArg {
    Train,
    Test,
}

#[derive(Args, Debug, Clone)]
pub struct TrainArgs<C: Args> {
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub data: ImageDataArgs,
    /// Images per optimizer step [default: the model's recipe]
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Fraction of the training images held out to validate each epoch
    #[arg(long, default_value_t = 1.0 / 12.0)]
    pub valid_fraction: f64,
    /// Learning-rate schedule over the run: constant, or cosine decay to zero [default: the
    /// model's recipe]
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleKind>,
    #[command(flatten)]
    pub model: C,
}

/// Saved weights and where to evaluate them.
#[derive(Args, Debug, Clone)]
pub struct SavedArgs<C: Args> {
    #[command(flatten)]
    pub weights: WeightsArgs,
    #[command(flatten)]
    pub data: ImageDataArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Images per evaluation batch
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Also write the figures to this JSON file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: C,
}

/// Every training setting after flags and the recipe are merged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    pub valid_fraction: f64,
    pub checkpoint_every: usize,
    /// Runs written before `--schedule` existed trained at a constant rate.
    #[serde(default = "constant_schedule")]
    pub schedule: ScheduleKind,
}

fn constant_schedule() -> ScheduleKind {
    ScheduleKind::Constant
}

/// `config.json`: enough to rebuild the model and repeat the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig<C> {
    pub model: String,
    pub model_config: C,
    pub data: ImageDataArgs,
    pub input: DataSpec,
    pub settings: Settings,
}

/// `report.json` of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GenerativeReport {
    pub model: String,
    pub dataset: String,
    pub device: String,
    pub seed: u64,
    pub epochs_completed: usize,
    pub epochs_requested: usize,
    pub resumed_from_epoch: Option<usize>,
    pub train_images: usize,
    pub valid_images: usize,
    pub test_images: usize,
    pub wall_seconds: f64,
    /// Median wall time of one epoch (training pass and validation).
    pub seconds_per_epoch: f64,
    pub parameters: usize,
    /// Test-set means per image of each of the model's quantities.
    pub test: BTreeMap<String, f64>,
    pub pictures: Vec<PathBuf>,
    pub git_commit: Option<String>,
    pub burn_version: String,
    pub peak_rss_mib: Option<f64>,
}

/// Runs one parsed shared command.
pub fn run_command<M: Reconstruction>(command: Command<M::Config>) -> anyhow::Result<()> {
    match command {
        Command::Train(args) => train::<M>(args).map(|_| ()),
        Command::Eval(saved) => eval::<M>(&saved).map(|_| ()),
        Command::Pictures { saved, out } => pictures::<M>(&saved, out),
        Command::Encode {
            saved,
            output,
            split,
        } => encode_csv::<M>(&saved, output, split),
        Command::Probe {
            saved,
            probe_epochs,
            pixel_baseline,
        } => probe::<M>(&saved, probe_epochs, pixel_baseline).map(|_| ()),
        Command::Info { data, model } => info::<M>(&data, &model),
    }
}

const EVALUATION_SEED: u64 = 0x5eed_e7a1;

/// Per-image means of `terms` over `set`, in batches of `batch_size`, with an inference copy.
pub fn evaluate_set<M: Reconstruction>(
    model: &M,
    config: &M::Config,
    set: &ImageSet,
    batch_size: usize,
    device: &Device,
) -> anyhow::Result<BTreeMap<String, f64>> {
    // Stochastic terms (a VAE's sampled code) draw from a fixed seed, so the figures a run
    // reports are the ones `eval` gives for its saved weights.
    device.seed(EVALUATION_SEED);
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    let indices: Vec<usize> = (0..set.len()).collect();
    for batch in indices.chunks(batch_size.max(1)) {
        for (name, values) in model.evaluate(pixel_batch(set, batch, device), config) {
            *sums.entry(name.to_string()).or_default() += values.sum().into_scalar::<f64>();
        }
    }
    for value in sums.values_mut() {
        *value /= set.len().max(1) as f64;
    }
    Ok(sums)
}

fn summary(terms: &BTreeMap<String, f64>) -> String {
    terms
        .iter()
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect::<Vec<_>>()
        .join("  ")
}

/// One network, one optimizer, shuffled minibatches; the last epoch's model is the result.
struct Minibatches<'a, M: Reconstruction> {
    model: M,
    optim: ModuleOptimizer,
    config: &'a M::Config,
    settings: &'a Settings,
    train: &'a ImageSet,
    valid: &'a ImageSet,
    schedule: WarmupSchedule,
    /// The model's per-image terms, in the order they first appeared (one curve each).
    plotted: Vec<&'static str>,
    device: &'a Device,
}

impl<M: Reconstruction> Training for Minibatches<'_, M> {
    type State = ();

    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult> {
        let settings = self.settings;
        // Each epoch draws its noise from (seed, epoch): validation reseeds the device, and a
        // resumed run continues with the same draws.
        self.device
            .seed(settings.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut sums: BTreeMap<&'static str, f64> = BTreeMap::new();
        let mut loss_sum = 0.0;
        let batches = epoch_batches(self.train.len(), settings.batch_size, settings.seed, epoch);
        let first_step = (epoch - 1) * self.train.len().div_ceil(settings.batch_size);
        let mut lr = settings.lr;
        let autodiff = self.device.clone().autodiff();
        for (step, batch) in batches.iter().enumerate() {
            lr = self.schedule.lr_at(first_step + step);
            let images = pixel_batch(self.train, batch, &autodiff);
            let (loss, terms) = self.model.objective(images, self.config);
            for (name, values) in terms {
                if !self.plotted.contains(&name) {
                    self.plotted.push(name);
                }
                *sums.entry(name).or_default() += values.sum().into_scalar::<f64>();
            }
            let step_loss = loss.clone().into_scalar::<f64>();
            check_finite(run, step_loss, epoch, Some(step + 1))?;
            loss_sum += step_loss * batch.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            self.model = self.optim.step(lr, self.model.clone(), grads);
        }
        run.record(epoch, "train", "lr", lr);
        let mut summary = String::from("train");
        for (name, sum) in &sums {
            let mean = sum / self.train.len() as f64;
            run.record(epoch, "train", name, mean);
            summary.push_str(&format!(" {name} {mean:.2}"));
        }
        Ok(EpochResult {
            loss: loss_sum / self.train.len() as f64,
            summary,
        })
    }

    fn validate(
        &mut self,
        epoch: usize,
        run: &mut RunFolder,
    ) -> anyhow::Result<Option<Validation>> {
        if self.valid.is_empty() {
            return Ok(None);
        }
        let scores = evaluate_set(
            &self.model.valid(),
            self.config,
            self.valid,
            self.settings.batch_size.max(256),
            self.device,
        )?;
        for (name, value) in &scores {
            run.record(epoch, "valid", name, *value);
        }
        // The model's first term is its training objective (the loss or the negative ELBO).
        let loss = self
            .plotted
            .first()
            .and_then(|n| scores.get(*n))
            .copied()
            .unwrap_or(f64::NAN);
        Ok(Some(Validation {
            loss,
            score: None,
            summary: format!("valid {}", summary(&scores)),
        }))
    }

    fn save(&self, dir: &Path) -> anyhow::Result<()> {
        save_module(&self.model, dir, "model")?;
        save_optimizer(&self.optim, dir, "optim")
    }

    fn state(&self) {}

    fn load(&mut self, dir: &Path, (): ()) -> anyhow::Result<()> {
        let model = load_module(self.model.clone(), dir, "model")?;
        let optim = load_optimizer(trainer::optim::adam(), dir, "optim")?;
        (self.model, self.optim) = (model, optim);
        Ok(())
    }
}

/// Trains as the flags say; returns the report it also writes.
pub fn train<M: Reconstruction>(args: TrainArgs<M::Config>) -> anyhow::Result<GenerativeReport> {
    let run_args = &args.run;
    let out = run_args.out_dir(M::NAME);
    let (settings, config, data) = if run_args.resume {
        let saved: RunConfig<M::Config> = RunFolder::read_config(&out.join("config.json"))?;
        let mut settings = saved.settings;
        if let Some(epochs) = run_args.epochs {
            settings.epochs = epochs;
        }
        let data = saved.data.with_data_dir_of(&args.data);
        (settings, saved.model_config, data)
    } else {
        let recipe = M::recipe(&args.model);
        let settings = Settings {
            epochs: run_args.epochs.unwrap_or(recipe.epochs),
            batch_size: args.batch_size.unwrap_or(recipe.batch_size),
            lr: run_args.lr.unwrap_or(recipe.lr),
            seed: run_args.seed,
            valid_fraction: args.valid_fraction,
            checkpoint_every: run_args.checkpoint_every.max(1),
            schedule: args.schedule.unwrap_or(recipe.schedule),
        };
        (settings, args.model.clone(), args.data.clone())
    };
    run_args.refuse(
        M::NAME,
        "it trains with plain Adam (no decay, no clipping)",
        &["--weight-decay", "--grad-clip"],
    )?;
    anyhow::ensure!(settings.epochs > 0, "--epochs must be at least 1");
    anyhow::ensure!(settings.batch_size > 0, "--batch-size must be at least 1");
    anyhow::ensure!(
        settings.lr > 0.0 && settings.lr.is_finite(),
        "--lr must be a positive number"
    );
    let (device_name, device) = select_device(run_args.device.device.as_deref())?;
    device.seed(settings.seed);
    let autodiff = device.clone().autodiff();

    let full = data.load(Split::Train)?;
    let test = data.load(Split::Test)?;
    let (train, valid) = full
        .split_validation(settings.valid_fraction, settings.seed)
        .map_err(|e| anyhow::anyhow!("--valid-fraction: {e}"))?;
    anyhow::ensure!(!train.is_empty(), "no training images left after the split");
    let shape = train.shape();
    let run_config = RunConfig {
        model: M::NAME.into(),
        model_config: config.clone(),
        data: data.clone(),
        input: DataSpec::new(shape, full.num_classes()),
        settings: settings.clone(),
    };
    let mut run = RunFolder::open(&out, settings.epochs, run_args.resume, &run_config)?;
    let model = M::new(&config, shape, &autodiff)?;
    println!(
        "training {} on {}: {} train / {} valid / {} test images; {} parameters; {device_name}, {} epochs of batch {}, Adam {} ({:?}); output in {}",
        M::NAME,
        data.dataset.name(),
        train.len(),
        valid.len(),
        test.len(),
        model.num_params(),
        settings.epochs,
        settings.batch_size,
        settings.lr,
        settings.schedule,
        out.display()
    );
    let _ = std::io::stdout().flush();

    let steps_per_epoch = train.len().div_ceil(settings.batch_size);
    let mut training = Minibatches {
        model,
        optim: trainer::optim::adam(),
        config: &config,
        settings: &settings,
        train: &train,
        valid: &valid,
        schedule: WarmupSchedule::new(
            settings.schedule,
            settings.lr,
            0,
            settings.epochs * steps_per_epoch,
            1,
            1.0,
        ),
        plotted: Vec::new(),
        device: &device,
    };
    let plan = Plan::new(settings.epochs, run_args, Select::Last, None);
    let fitted = fit(&mut run, &plan, &mut training)?;
    let (start, wall_seconds, plotted, model) = (
        fitted.start,
        run.elapsed(),
        training.plotted,
        training.model,
    );

    let model = model.valid();
    save_module(&model, &out, "model")?;
    let test_scores = evaluate_set(&model, &config, &test, 500, &device)?;
    let pictures = model.pictures(&config, &test, &out, settings.seed)?;
    for metric in &plotted {
        run.plot(&format!("{} {metric} per image", M::NAME), metric);
    }
    let seconds_per_epoch = run.median_epoch_seconds(start);
    let report = GenerativeReport {
        model: M::NAME.into(),
        dataset: data.dataset.name().into(),
        device: device_name,
        seed: settings.seed,
        epochs_completed: fitted.last_epoch,
        epochs_requested: settings.epochs,
        resumed_from_epoch: (start > 0).then_some(start),
        train_images: train.len(),
        valid_images: valid.len(),
        test_images: test.len(),
        wall_seconds,
        seconds_per_epoch,
        parameters: model.num_params(),
        test: test_scores,
        pictures,
        git_commit: git_commit(),
        burn_version: "0.22.1".into(),
        peak_rss_mib: peak_rss_mib(),
    };
    run.write_json("report.json", &report)?;
    println!(
        "test ({} images): {}  ({:.1} s, {:.1} s/epoch{}); weights, pictures and report in {}",
        report.test_images,
        summary(&report.test),
        report.wall_seconds,
        report.seconds_per_epoch,
        rss_note(report.peak_rss_mib),
        out.display()
    );
    Ok(report)
}

/// Loads saved weights with their run's config (`--config`, else `config.json` beside the
/// weights, else the flags), on the chosen device.
pub fn load<M: Reconstruction>(
    saved: &SavedArgs<M::Config>,
) -> anyhow::Result<(M, M::Config, ImageDataArgs, Device)> {
    let (_, device) = select_device(saved.device.device.as_deref())?;
    let (config, data) = match saved.weights.run_config() {
        Some(path) => {
            let run: RunConfig<M::Config> = RunFolder::read_config(&path)?;
            let data = ImageDataArgs {
                data_dir: saved.data.data_dir.clone(),
                limit_train: saved.data.limit_train,
                limit_test: saved.data.limit_test,
                ..run.data
            };
            (run.model_config, data)
        }
        None => (saved.model.clone(), saved.data.clone()),
    };
    let test = data.load(Split::Test)?;
    let model = M::new(&config, test.shape(), &device)?;
    let model = trainer::weights::load_weights(model, &saved.weights.weights, &[])?;
    Ok((model, config, data, device))
}

/// `eval`: test-set figures of saved weights.
pub fn eval<M: Reconstruction>(
    saved: &SavedArgs<M::Config>,
) -> anyhow::Result<BTreeMap<String, f64>> {
    let (model, config, data, device) = load::<M>(saved)?;
    let test = data.load(Split::Test)?;
    let scores = evaluate_set(&model, &config, &test, saved.batch_size, &device)?;
    println!(
        "{} on {} test ({} images): {}",
        saved.weights.weights.display(),
        data.dataset.name(),
        test.len(),
        summary(&scores)
    );
    if let Some(path) = &saved.json {
        std::fs::write(path, serde_json::to_string_pretty(&scores)?)?;
    }
    Ok(scores)
}

fn beside_weights(weights: &Path) -> PathBuf {
    weights
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn pictures<M: Reconstruction>(
    saved: &SavedArgs<M::Config>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (model, config, data, _) = load::<M>(saved)?;
    let test = data.load(Split::Test)?;
    let dir = out.unwrap_or_else(|| beside_weights(&saved.weights.weights));
    for path in model.pictures(&config, &test, &dir, 1)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The codes of every image of `set`.
pub fn encode_set<M: Reconstruction>(
    model: &M,
    set: &ImageSet,
    device: &Device,
) -> anyhow::Result<Codes> {
    let mut values = Vec::new();
    let mut dim = 0;
    let indices: Vec<usize> = (0..set.len()).collect();
    for batch in indices.chunks(500) {
        let codes = model.encode(pixel_batch(set, batch, device)); // [batch, latent]
        dim = codes.dims()[1];
        values.extend(codes.into_data().try_to_vec::<f32>()?);
    }
    Ok(Codes {
        values,
        dim,
        labels: (0..set.len()).map(|i| set.label(i)).collect(),
    })
}

fn encode_csv<M: Reconstruction>(
    saved: &SavedArgs<M::Config>,
    output: Option<PathBuf>,
    split: SplitArg,
) -> anyhow::Result<()> {
    let (model, _, data, device) = load::<M>(saved)?;
    let (split, name) = match split {
        SplitArg::Train => (Split::Train, "train"),
        SplitArg::Test => (Split::Test, "test"),
    };
    let set = data.load(split)?;
    let codes = encode_set(&model, &set, &device)?;
    let path = output.unwrap_or_else(|| {
        beside_weights(&saved.weights.weights).join(format!("codes-{name}.csv"))
    });
    let mut csv = String::from("index,label");
    for d in 0..codes.dim {
        csv.push_str(&format!(",z{d}"));
    }
    csv.push('\n');
    for (i, row) in codes.values.chunks_exact(codes.dim.max(1)).enumerate() {
        csv.push_str(&format!("{i},{}", codes.labels[i]));
        for v in row {
            csv.push_str(&format!(",{v}"));
        }
        csv.push('\n');
    }
    std::fs::write(&path, csv)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!(
        "wrote {} ({} {name} images, {} dimensions)",
        path.display(),
        codes.len(),
        codes.dim
    );
    Ok(())
}

/// `probe`: train and test accuracy (percent) of a linear probe on the codes.
pub fn probe<M: Reconstruction>(
    saved: &SavedArgs<M::Config>,
    probe_epochs: usize,
    pixel_baseline: bool,
) -> anyhow::Result<(f64, f64)> {
    let (model, _, data, device) = load::<M>(saved)?;
    let train = data.load(Split::Train)?;
    let test = data.load(Split::Test)?;
    let started = std::time::Instant::now();
    let train_codes = encode_set(&model, &train, &device)?;
    let test_codes = encode_set(&model, &test, &device)?;
    let config = ProbeConfig {
        epochs: probe_epochs,
        ..Default::default()
    };
    let (train_acc, test_acc) = linear_probe(
        &train_codes,
        &test_codes,
        train.num_classes(),
        &config,
        &device,
    )?;
    println!(
        "linear probe on {}-d codes: train accuracy {train_acc:.2}%, test accuracy {test_acc:.2}% ({} train / {} test images, {:.1} s)",
        train_codes.dim,
        train.len(),
        test.len(),
        started.elapsed().as_secs_f64()
    );
    if pixel_baseline {
        let pixels = |set: &ImageSet| Codes {
            values: (0..set.len())
                .flat_map(|i| set.image(i).iter().map(|&p| p as f32 / 255.0))
                .collect(),
            dim: set.shape().pixels(),
            labels: (0..set.len()).map(|i| set.label(i)).collect(),
        };
        let (train_px, test_px) = linear_probe(
            &pixels(&train),
            &pixels(&test),
            train.num_classes(),
            &config,
            &device,
        )?;
        println!(
            "baseline, the same probe on the {} raw pixels: train accuracy {train_px:.2}%, test accuracy {test_px:.2}%",
            train.shape().pixels()
        );
    }
    if let Some(path) = &saved.json {
        let json = serde_json::json!({"train_accuracy": train_acc, "test_accuracy": test_acc, "dim": train_codes.dim});
        std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    }
    Ok((train_acc, test_acc))
}

fn info<M: Reconstruction>(data: &ImageDataArgs, config: &M::Config) -> anyhow::Result<()> {
    let (_, device) = select_device(None)?;
    let test = data.load(Split::Test)?;
    let model = M::new(config, test.shape(), &device)?;
    println!("{}: {}", M::NAME, serde_json::to_string(config)?);
    println!("parameters: {}", model.num_params());
    println!("{model}");
    Ok(())
}
