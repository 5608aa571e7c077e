//! Adversarial training on the trainer's run driver: two networks, two Adam optimizers
//! (lr 2e-4, β₁ 0.5, as in the DCGAN paper), the non-saturating losses of Goodfellow et al.
//! (D: −log D(x) − log(1 − D(G(z))); G: −log D(G(z))), one discriminator step then one
//! generator step per batch. Each epoch writes a grid of samples from fixed noise; with
//! `--classifier`, FID and a mode-collapse hint at the epochs `--fid-at` names.

use crate::config::GanConfig;
use crate::fid::{FidOptions, FidScore, Gaussian, Judge, reference, score};
use crate::model::{
    Discriminator, Generator, from_unit, generate, noise, one_hot, sample_label, to_unit,
};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{sigmoid, softplus};
use clap::Args;
use datasets::{ImageSet, Split};
use generative::pixels::{ImageDataArgs, epoch_batches, pixel_batch, to_bytes};
use generative::save_grid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use trainer::classifier::DataSpec;
use trainer::cli::DeviceArgs;
use trainer::device::select_device;
use trainer::driver::{
    EpochResult, Plan, RunFlags, RunFolder, Select, Training, Validation, check_finite, fit,
    load_module, load_optimizer, save_module, save_optimizer,
};
use trainer::report::Provenance;

pub const NAME: &str = "gan";
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub data: ImageDataArgs,
    #[command(flatten)]
    pub fid: FidOptions,
    #[command(flatten)]
    pub model: GanConfig,
}

#[derive(Args, Debug, Clone)]
pub struct FidArgs {
    /// generator.bpk written by `train`
    #[arg(long, value_name = "FILE", required_unless_present = "real_train")]
    pub weights: Option<PathBuf>,
    /// Score the first --fid-samples real training images instead of a generator
    #[arg(long)]
    pub real_train: bool,
    /// Seed of the noise
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub fid: FidOptions,
    #[command(flatten)]
    pub data: ImageDataArgs,
    #[command(flatten)]
    pub limits: generative::pixels::ImageLimits,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub beta1: f64,
    pub seed: u64,
    pub checkpoint_every: usize,
    pub fid: FidOptions,
}

/// `config.json` of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig {
    pub model: String,
    pub model_config: GanConfig,
    pub data: ImageDataArgs,
    pub input: DataSpec,
    pub settings: Settings,
}

/// `report.json` of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GanReport {
    pub model: String,
    pub model_config: GanConfig,
    pub dataset: String,
    pub device: String,
    pub seed: u64,
    pub epochs_completed: usize,
    pub resumed_from_epoch: Option<usize>,
    pub train_images: usize,
    pub wall_seconds: f64,
    pub seconds_per_epoch: f64,
    pub generator_parameters: usize,
    pub discriminator_parameters: usize,
    pub final_d_loss: f64,
    pub final_g_loss: f64,
    pub fid: Vec<FidScore>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

fn mean(sum: f64, count: usize) -> f64 {
    sum / count.max(1) as f64
}

/// Adam as DCGAN trains it (β₁ 0.5), one per network.
fn new_optim(beta1: f64) -> ModuleOptimizer {
    trainer::optim::adam_config()
        .with_beta_1(beta1 as f32)
        .init()
}

/// Two networks, two optimizers: a discriminator step, then a generator step on the
/// non-saturating loss, per minibatch. "Validation" writes the fixed-noise grid and, at the
/// epochs `--fid-at` names, scores FID on the test set; the last epoch's networks are the result.
struct Adversarial<'a> {
    generator: Generator,
    discriminator: Discriminator,
    optim_g: ModuleOptimizer,
    optim_d: ModuleOptimizer,
    /// FID at the epochs scored so far; checkpointed.
    scores: Vec<FidScore>,
    /// The last epoch's mean discriminator and generator losses.
    last_losses: (f64, f64),
    fixed_noise: Tensor<2>,
    fixed_labels: Option<Tensor<2>>,
    grid_columns: usize,
    conditioned_on: usize,
    fid: Option<&'a (Judge, Gaussian)>,
    config: &'a GanConfig,
    settings: &'a Settings,
    train: &'a ImageSet,
    out: &'a Path,
    device: &'a Device,
}

impl Training for Adversarial<'_> {
    type State = Vec<FidScore>;

    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult> {
        let (settings, train) = (self.settings, self.train);
        let autodiff = self.device.clone().autodiff();
        let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
        let mut images = 0;
        let batches = epoch_batches(train.len(), settings.batch_size, settings.seed, epoch);
        for (step, batch) in batches.into_iter().enumerate() {
            // A batch of one has no batch-norm statistics: the remainder is dropped.
            if batch.len() < 2 {
                continue;
            }
            let n = batch.len();
            let real = from_unit(pixel_batch(train, &batch, &autodiff));
            let z = Tensor::random(
                [n, self.config.latent],
                Distribution::Normal(0.0, 1.0),
                &autodiff,
            );
            // A conditional GAN draws its fakes for the real batch's classes.
            let labels = (self.conditioned_on > 0).then(|| {
                let labels: Vec<usize> = batch.iter().map(|&i| train.label(i) as usize).collect();
                one_hot(&labels, self.conditioned_on, &autodiff)
            });
            let fake = self.generator.forward_conditional(z, labels.clone()); // [n, c, h, w]

            let real_logits = self.discriminator.forward_conditional(real, labels.clone()); // [n, 1]
            let fake_logits = self
                .discriminator
                .forward_conditional(fake.clone().detach(), labels.clone());
            let d_loss = softplus(real_logits.clone().neg(), 1.0).mean()
                + softplus(fake_logits.clone(), 1.0).mean();
            let grads = GradientsParams::from_grads(d_loss.backward(), &self.discriminator);
            self.discriminator = self
                .optim_d
                .step(settings.lr, self.discriminator.clone(), grads);

            let g_loss = softplus(
                self.discriminator.forward_conditional(fake, labels).neg(),
                1.0,
            )
            .mean();
            let grads = GradientsParams::from_grads(g_loss.backward(), &self.generator);
            self.generator = self
                .optim_g
                .step(settings.lr, self.generator.clone(), grads);

            let (d, g) = (d_loss.into_scalar::<f64>(), g_loss.into_scalar::<f64>());
            check_finite(run, d + g, epoch, Some(step + 1))?;
            let w = n as f64;
            *sums.entry("d_loss").or_default() += w * d;
            *sums.entry("g_loss").or_default() += w * g;
            *sums.entry("d_real").or_default() += sigmoid(real_logits).sum().into_scalar::<f64>();
            *sums.entry("d_fake").or_default() += sigmoid(fake_logits).sum().into_scalar::<f64>();
            images += n;
        }
        for (name, sum) in &sums {
            run.record(epoch, "train", name, mean(*sum, images));
        }
        let value = |name: &str| mean(sums.get(name).copied().unwrap_or(0.0), images);
        self.last_losses = (value("d_loss"), value("g_loss"));
        Ok(EpochResult {
            loss: self.last_losses.0 + self.last_losses.1,
            summary: format!(
                "D loss {:.3}  G loss {:.3}  D(x) {:.3}  D(G(z)) {:.3}",
                self.last_losses.0,
                self.last_losses.1,
                value("d_real"),
                value("d_fake")
            ),
        })
    }

    /// The fixed-noise grid, and FID when due. There is no validation loss: `None` (the
    /// summary goes to the epoch line through the FID record).
    fn validate(
        &mut self,
        epoch: usize,
        run: &mut RunFolder,
    ) -> anyhow::Result<Option<Validation>> {
        let settings = self.settings;
        let sampler = self.generator.valid();
        save_grid(
            to_unit(
                sampler.forward_conditional(self.fixed_noise.clone(), self.fixed_labels.clone()),
            ),
            self.grid_columns,
            &self
                .out
                .join("samples")
                .join(format!("epoch-{epoch:03}.png")),
        )?;
        let Some((judge, reference)) = self.fid else {
            return Ok(None);
        };
        if !(settings.fid.fid_at.contains(&epoch) || epoch == settings.epochs) {
            return Ok(None);
        }
        let generated = to_bytes(generate(
            &sampler,
            settings.fid.fid_samples,
            settings.seed,
            self.device,
        ))?;
        let scored = score(judge, reference, &generated, epoch, self.conditioned_on)?;
        run.record(epoch, "test", "fid", scored.fid);
        run.record(
            epoch,
            "test",
            "classes_in_1000",
            scored.classes_in_1000 as f64,
        );
        let mut summary = format!(
            "FID {:.2}  classes {}/{}",
            scored.fid,
            scored.classes_in_1000,
            judge.num_classes()
        );
        if let Some(accuracy) = scored.label_accuracy {
            summary.push_str(&format!(
                "  classifier agrees with the label {accuracy:.1}%"
            ));
        }
        self.scores.retain(|s| s.epoch != epoch);
        self.scores.push(scored);
        // FID is reported, not selected on: the last epoch's networks are the result.
        Ok(Some(Validation {
            loss: 0.0,
            score: None,
            summary,
        }))
    }

    fn save(&self, dir: &Path) -> anyhow::Result<()> {
        save_module(&self.generator, dir, "generator")?;
        save_module(&self.discriminator, dir, "discriminator")?;
        save_optimizer(&self.optim_g, dir, "optim_generator")?;
        save_optimizer(&self.optim_d, dir, "optim_discriminator")
    }

    fn state(&self) -> Vec<FidScore> {
        self.scores.clone()
    }

    fn load(&mut self, dir: &Path, scores: Vec<FidScore>) -> anyhow::Result<()> {
        let generator = load_module(self.generator.clone(), dir, "generator")?;
        let discriminator = load_module(self.discriminator.clone(), dir, "discriminator")?;
        let beta1 = self.settings.beta1;
        let optim_g = load_optimizer(new_optim(beta1), dir, "optim_generator")?;
        let optim_d = load_optimizer(new_optim(beta1), dir, "optim_discriminator")?;
        (
            self.generator,
            self.discriminator,
            self.optim_g,
            self.optim_d,
            self.scores,
        ) = (generator, discriminator, optim_g, optim_d, scores);
        Ok(())
    }
}

/// Trains as the flags say; returns the report it also writes.
pub fn train(args: TrainArgs) -> anyhow::Result<GanReport> {
    let out = args.run.out_dir(NAME);
    args.run.one_batch_per_step(
        NAME,
        "its discriminator and generator take alternating steps, each on the other's newest \
         weights (use --batch-size for larger steps)",
    )?;
    args.run.refuse(
        NAME,
        "a GAN has no validation split or loss to stop on, and trains with DCGAN's Adam (β₁ 0.5) \
         at a constant rate (no momentum flag, decay, L1 penalty, clipping, schedule or warm-up), and \
         has no classes to cross-validate",
        &[
            "--early-stop",
            "--limit-valid",
            "--momentum",
            "--weight-decay",
            "--l1",
            "--folds",
            "--grad-clip",
            "--schedule",
            "--warmup-epochs",
        ],
    )?;
    args.run
        .only_optimizer(NAME, trainer::OptimizerKind::Adam)?;
    let (settings, config, data) = if args.run.resume {
        let saved: RunConfig = RunFolder::read_config(&out.join("config.json"))?;
        let mut settings = saved.settings;
        if let Some(epochs) = args.run.epochs {
            settings.epochs = epochs;
        }
        let data = saved.data.with_data_dir_of(&args.data);
        (settings, saved.model_config, data)
    } else {
        let settings = Settings {
            epochs: args.run.epochs.unwrap_or(20),
            // Real and fake batches are this size each.
            batch_size: args.run.batch_size.unwrap_or(128),
            lr: args.run.lr.unwrap_or(2e-4),
            beta1: 0.5,
            seed: args.run.seed,
            checkpoint_every: args.run.checkpoint_every.max(1),
            fid: args.fid.clone(),
        };
        let data = ImageDataArgs {
            limit_train: args.run.limit_train,
            limit_test: args.run.limit_test,
            ..args.data.clone()
        };
        (settings, args.model.clone(), data)
    };
    anyhow::ensure!(settings.epochs > 0, "--epochs must be at least 1");
    anyhow::ensure!(settings.batch_size >= 2, "--batch-size must be at least 2");
    anyhow::ensure!(
        settings.lr > 0.0 && settings.lr.is_finite(),
        "--lr must be a positive number"
    );
    let (device_name, device) = select_device(args.run.device_name())?;
    device.seed(settings.seed);
    let autodiff = device.clone().autodiff();

    let train = data.load(Split::Train)?;
    let test = data.load(Split::Test)?;
    let shape = train.shape();
    // Load the judge first: a wrong --classifier fails before any training.
    let fid = match &settings.fid.classifier {
        Some(path) => Some(reference(&settings.fid, path, &test, &device)?),
        None => None,
    };
    let run_config = RunConfig {
        model: NAME.into(),
        model_config: config.clone(),
        data: data.clone(),
        input: DataSpec::new(shape, train.num_classes()),
        settings: settings.clone(),
    };
    let mut run = RunFolder::open(&out, settings.epochs, args.run.resume, &run_config)?;
    let classes = train.num_classes();
    let generator = Generator::new(&config, shape, classes, &autodiff)?;
    let discriminator = Discriminator::new(&config, shape, classes, &autodiff)?;
    let conditioned_on = generator.classes();
    println!(
        "training {NAME} ({:?}) on {}: {} images; generator {} / discriminator {} parameters; {device_name}, {} epochs of batch {}, Adam {} (beta1 {}); output in {}",
        config.arch,
        data.dataset.name(),
        train.len(),
        generator.num_params(),
        discriminator.num_params(),
        settings.epochs,
        settings.batch_size,
        settings.lr,
        settings.beta1,
        out.display()
    );
    let _ = std::io::stdout().flush();

    // The same noise vectors every epoch, so the grids show progress: 64, or for a conditional
    // generator 8 rows of one sample per class (column c is class c).
    let (grid_samples, grid_columns) = if conditioned_on > 0 {
        (8 * conditioned_on, conditioned_on)
    } else {
        (64, 8)
    };
    let fixed_labels = (conditioned_on > 0).then(|| {
        let labels: Vec<usize> = (0..grid_samples)
            .map(|i| sample_label(i, conditioned_on))
            .collect();
        one_hot(&labels, conditioned_on, &device)
    });
    let mut training = Adversarial {
        generator,
        discriminator,
        optim_g: new_optim(settings.beta1),
        optim_d: new_optim(settings.beta1),
        scores: Vec::new(),
        last_losses: (0.0, 0.0),
        fixed_noise: noise(grid_samples, config.latent, settings.seed ^ 0xf1ed, &device),
        fixed_labels,
        grid_columns,
        conditioned_on,
        fid: fid.as_ref(),
        config: &config,
        settings: &settings,
        train: &train,
        out: &out,
        device: &device,
    };
    let plan = Plan::new(settings.epochs, &args.run, Select::Last, None);
    let fitted = fit(&mut run, &plan, &mut training)?;
    let (start, wall_seconds) = (fitted.start, run.elapsed());
    let Adversarial {
        generator,
        discriminator,
        scores,
        last_losses,
        ..
    } = training;

    save_module(&generator.valid(), &out, "generator")?;
    save_module(&discriminator.valid(), &out, "discriminator")?;
    for (metric, title) in [
        ("d_loss", "discriminator loss"),
        ("g_loss", "generator loss"),
        ("fid", "FID (test)"),
    ] {
        if run.rows().iter().any(|r| r.metric == metric) {
            run.plot(&format!("{NAME} {title}"), metric);
        }
    }
    let seconds_per_epoch = run.median_epoch_seconds(start);
    let report = GanReport {
        model: NAME.into(),
        model_config: config,
        dataset: data.dataset.name().into(),
        device: device_name,
        seed: settings.seed,
        epochs_completed: fitted.last_epoch,
        resumed_from_epoch: (start > 0).then_some(start),
        train_images: train.len(),
        wall_seconds,
        seconds_per_epoch,
        generator_parameters: generator.num_params(),
        discriminator_parameters: discriminator.num_params(),
        final_d_loss: last_losses.0,
        final_g_loss: last_losses.1,
        fid: scores,
        provenance: Provenance::now(),
    };
    run.write_json("report.json", &report)?;
    let fid_note = report
        .fid
        .iter()
        .map(|s| {
            format!(
                "epoch {} FID {:.2} ({} classes)",
                s.epoch, s.fid, s.classes_in_1000
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "done: {}  ({:.1} s, {:.1} s/epoch{}); generator.bpk, samples/ and report in {}",
        if fid_note.is_empty() {
            "no --classifier, no FID"
        } else {
            &fid_note
        },
        report.wall_seconds,
        report.seconds_per_epoch,
        report.provenance.rss_note(),
        out.display()
    );
    Ok(report)
}
