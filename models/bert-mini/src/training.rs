//! What pretraining and fine-tuning share: BERT's optimizer and schedule, step timing, progress
//! lines, and the run's `run.json`.

use crate::args::{BatchArgs, NAME};
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer};
use burn::prelude::Device;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use trainer::classifier::ScheduleKind;
use trainer::driver::RunFlags;
use trainer::schedule::WarmupSchedule;

/// A training command's settings after flags and its recipe are merged.
pub struct Setup {
    pub device_name: String,
    pub device: Device,
    /// The same device with autodiff: parameters and training batches live here.
    pub autodiff: Device,
    pub out: PathBuf,
    pub epochs: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub seed: u64,
    pub batch_size: usize,
    /// Per-tensor gradient norm clip (BERT: 1.0); 0 = off.
    pub grad_clip: f64,
}

impl Setup {
    /// `recipe`: (epochs, learning rate, weight decay) when the flags leave them out.
    pub fn new(
        run: &RunFlags,
        batch: &BatchArgs,
        recipe: (usize, f64, f64),
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            batch.max_len >= 8,
            "--max-len {} is too short (at least 8)",
            batch.max_len
        );
        run.refuse(
            NAME,
            "it trains with AdamW on BERT's linear schedule, warmed up over the --warmup \
             fraction of the steps (decoupled decay, no L1 penalty)",
            &["--momentum", "--schedule", "--warmup-epochs", "--l1"],
        )?;
        run.only_optimizer(NAME, trainer::OptimizerKind::Adamw)?;
        let (device_name, device) = trainer::device::select_device(run.device_name())?;
        Ok(Self {
            autodiff: device.clone().autodiff(),
            device_name,
            device,
            out: run.out_dir(NAME),
            epochs: run.epochs.unwrap_or(recipe.0),
            lr: run.lr.unwrap_or(recipe.1),
            weight_decay: run.weight_decay.unwrap_or(recipe.2),
            seed: run.seed,
            // Sequences per optimizer step.
            batch_size: run.batch_size.unwrap_or(32).max(1),
            grad_clip: run.grad_clip.unwrap_or(1.0),
        })
    }
}

/// AdamW as BERT trains (β 0.9/0.999, ε 1e-6, decoupled weight decay), gradients clipped to
/// norm `grad_clip` (BERT: 1; 0 = off). Two differences from the reference: Burn clips each
/// parameter tensor (BERT clips the global norm), and decay applies to every parameter (BERT
/// spares biases and LayerNorm).
pub fn optimizer(weight_decay: f64, grad_clip: f64) -> ModuleOptimizer {
    AdamWConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-6)
        .with_weight_decay(weight_decay as f32)
        .with_grad_clipping(
            (grad_clip > 0.0).then_some(GradientClippingConfig::Norm(grad_clip as f32)),
        )
        .init()
}

/// Linear warm-up over `batch.warmup` of the steps, then linear decay to zero.
pub fn schedule(
    batch: &BatchArgs,
    peak_lr: f64,
    total_steps: usize,
) -> anyhow::Result<WarmupSchedule> {
    anyhow::ensure!(
        (0.0..1.0).contains(&batch.warmup),
        "--warmup {} must be a fraction in [0, 1)",
        batch.warmup
    );
    let warmup = (total_steps as f64 * batch.warmup).round() as usize;
    Ok(WarmupSchedule::new(
        ScheduleKind::Linear,
        peak_lr,
        warmup,
        total_steps,
        1,
        1.0,
    ))
}

/// Running sums over one epoch's steps, and the progress line.
pub struct EpochMeter {
    started: Instant,
    steps: usize,
    total: usize,
    log_every: usize,
    pub loss_sum: f64,
    pub correct: usize,
    pub predicted: usize,
    /// Seconds of each step (for the median step time).
    pub step_seconds: Vec<f64>,
    step_started: Instant,
}

impl EpochMeter {
    pub fn new(total: usize, log_every: usize) -> Self {
        Self {
            started: Instant::now(),
            steps: 0,
            total,
            log_every,
            loss_sum: 0.0,
            correct: 0,
            predicted: 0,
            step_seconds: Vec::new(),
            step_started: Instant::now(),
        }
    }

    /// Records one step: its loss and how many of `predicted` predictions were right.
    pub fn step(&mut self, loss: f64, correct: usize, predicted: usize, lr: f64) {
        self.step_seconds
            .push(self.step_started.elapsed().as_secs_f64());
        self.step_started = Instant::now();
        self.steps += 1;
        self.loss_sum += loss;
        self.correct += correct;
        self.predicted += predicted;
        if self.log_every > 0
            && self.steps.is_multiple_of(self.log_every)
            && self.steps < self.total
        {
            println!(
                "  step {}/{}  loss {:.4}  accuracy {:.2}%  lr {lr:.2e}  ({:.2} s/step)",
                self.steps,
                self.total,
                self.loss(),
                self.accuracy(),
                self.started.elapsed().as_secs_f64() / self.steps as f64
            );
            let _ = std::io::stdout().flush();
        }
    }

    pub fn loss(&self) -> f64 {
        self.loss_sum / self.steps.max(1) as f64
    }

    /// Percent.
    pub fn accuracy(&self) -> f64 {
        100.0 * self.correct as f64 / self.predicted.max(1) as f64
    }

    pub fn median_step_seconds(&self) -> f64 {
        median(&self.step_seconds)
    }
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
