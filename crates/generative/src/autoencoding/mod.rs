//! What `autoencoder` and `vae` share: models that encode an image to a code and decode it
//! back, trained with one network, one optimizer, minibatches of `[0, 1]` images and a loss per
//! image. Training runs on the trainer's run driver, so a run has what every burn-zoo run has:
//! `config.json`, `metrics.csv` and curves, checkpoints and `--resume`, `model.bpk`,
//! `report.json`; plus the model's pictures. The commands around it (`eval`, `pictures`,
//! `encode`, `probe`, `info`) are in `commands.rs`.

mod commands;

pub use commands::*;

use crate::pixels::{ImageDataArgs, ImageLimits, epoch_batches, pixel_batch};
use crate::probe::{Codes, ProbeConfig, linear_probe};
use burn::optim::ModuleOptimizer;
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
    EpochResult, Plan, RunFlags, RunFolder, Select, Training, Validation, Workers, check_finite,
    fit, load_module, load_optimizer, save_module, save_optimizer,
};
use trainer::report::Provenance;
use trainer::schedule::WarmupSchedule;

/// Per-image quantities of a batch, by name: each a `[batch]` tensor.
pub type Terms = Vec<(&'static str, Tensor<1>)>;

/// A model trained to reconstruct (or generate) images through a code.
pub trait Autoencoding: Module + Clone + std::fmt::Display + Sized + 'static {
    type Config: Args + Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;
    const NAME: &'static str;
    /// The test figure that sums the model up (a term of [`Autoencoding::evaluate`], lower is
    /// better): what `quantize` compares.
    const HEADLINE: &'static str;

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

#[derive(Args, Debug, Clone)]
pub struct TrainArgs<C: Args> {
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub data: ImageDataArgs,
    /// Fraction of the training images held out to validate each epoch
    #[arg(long, default_value_t = 1.0 / 12.0)]
    pub valid_fraction: f64,
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
    /// `--limit-valid` (the train and test limits are the data's).
    #[serde(default)]
    pub limit_valid: Option<usize>,
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
    #[serde(flatten)]
    pub provenance: Provenance,
}

const EVALUATION_SEED: u64 = 0x5eed_e7a1;

/// Per-image means of `terms` over `set`, in batches of `batch_size`, with an inference copy.
pub fn evaluate_set<M: Autoencoding>(
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
struct Minibatches<'a, M: Autoencoding> {
    model: M,
    optim: ModuleOptimizer,
    config: &'a M::Config,
    settings: &'a Settings,
    train: &'a ImageSet,
    valid: &'a ImageSet,
    schedule: WarmupSchedule,
    /// The model's per-image terms, in the order they first appeared (one curve each).
    plotted: Vec<&'static str>,
    /// Where each step's batches run (`--devices`, `--grad-accumulation`).
    workers: Workers,
    device: &'a Device,
}

impl<M: Autoencoding> Training for Minibatches<'_, M> {
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
        let step_batches = self.workers.batches_per_step();
        let first_step = (epoch - 1) * self.workers.steps(batches.len());
        let mut lr = settings.lr;
        let (train, config) = (self.train, self.config);
        for (step, group) in batches.chunks(step_batches).enumerate() {
            lr = self.schedule.lr_at(first_step + step);
            // Each batch's loss and per-image term sums, as host numbers.
            let (grads, outputs) =
                self.workers
                    .step(&self.model, group, |model, batch, device| {
                        let (loss, terms) =
                            model.objective(pixel_batch(train, batch, device), config);
                        let terms: Vec<(&'static str, f64)> = terms
                            .into_iter()
                            .map(|(name, values)| (name, values.sum().into_scalar::<f64>()))
                            .collect();
                        let value = loss.clone().into_scalar::<f64>();
                        Ok((loss, (value, batch.len(), terms)))
                    })?;
            for (value, images, terms) in outputs {
                check_finite(run, value, epoch, Some(step + 1))?;
                loss_sum += value * images as f64;
                for (name, sum) in terms {
                    if !self.plotted.contains(&name) {
                        self.plotted.push(name);
                    }
                    *sums.entry(name).or_default() += sum;
                }
            }
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
pub fn train<M: Autoencoding>(args: TrainArgs<M::Config>) -> anyhow::Result<GenerativeReport> {
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
            batch_size: run_args.batch_size.unwrap_or(recipe.batch_size),
            lr: run_args.lr.unwrap_or(recipe.lr),
            seed: run_args.seed,
            valid_fraction: args.valid_fraction,
            checkpoint_every: run_args.checkpoint_every.max(1),
            schedule: run_args.schedule.unwrap_or(recipe.schedule),
            limit_valid: run_args.limit_valid,
        };
        let data = ImageDataArgs {
            limit_train: run_args.limit_train,
            limit_test: run_args.limit_test,
            ..args.data.clone()
        };
        (settings, args.model.clone(), data)
    };
    run_args.refuse(
        M::NAME,
        "it trains with plain Adam at a constant or cosine rate (no momentum flag, decay, L1 \
         penalty, clipping or warm-up), and has no classes to cross-validate",
        &[
            "--momentum",
            "--weight-decay",
            "--l1",
            "--folds",
            "--grad-clip",
            "--warmup-epochs",
        ],
    )?;
    run_args.only_optimizer(M::NAME, trainer::OptimizerKind::Adam)?;
    anyhow::ensure!(
        matches!(
            settings.schedule,
            ScheduleKind::Constant | ScheduleKind::Cosine
        ),
        "--schedule {:?}: {} trains at a constant rate or with a cosine decay",
        settings.schedule,
        M::NAME
    );
    anyhow::ensure!(settings.epochs > 0, "--epochs must be at least 1");
    anyhow::ensure!(settings.batch_size > 0, "--batch-size must be at least 1");
    anyhow::ensure!(
        settings.lr > 0.0 && settings.lr.is_finite(),
        "--lr must be a positive number"
    );
    let (device_name, device) = select_device(run_args.device_name())?;
    device.seed(settings.seed);
    let autodiff = device.clone().autodiff();
    let workers = Workers::new(run_args, &device)?;

    let full = data.load(Split::Train)?;
    let test = data.load(Split::Test)?;
    let (train, mut valid) = full
        .split_validation(settings.valid_fraction, settings.seed)
        .map_err(|e| anyhow::anyhow!("--valid-fraction: {e}"))?;
    if let Some(n) = settings.limit_valid {
        valid = valid.take(n);
    }
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
        "training {} on {}: {} train / {} valid / {} test images; {} parameters; {device_name}{}, {} epochs of batch {}, Adam {} ({:?}); output in {}",
        M::NAME,
        data.dataset.name(),
        train.len(),
        valid.len(),
        test.len(),
        model.num_params(),
        workers.label(),
        settings.epochs,
        settings.batch_size,
        settings.lr,
        settings.schedule,
        out.display()
    );
    let _ = std::io::stdout().flush();

    let steps_per_epoch = workers.steps(train.len().div_ceil(settings.batch_size));
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
        workers,
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
        provenance: Provenance::now(),
    };
    run.write_json("report.json", &report)?;
    println!(
        "test ({} images): {}  ({:.1} s, {:.1} s/epoch{}); weights, pictures and report in {}",
        report.test_images,
        summary(&report.test),
        report.wall_seconds,
        report.seconds_per_epoch,
        report.provenance.rss_note(),
        out.display()
    );
    Ok(report)
}
