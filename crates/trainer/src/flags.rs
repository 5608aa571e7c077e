//! The training flags every model's training command takes, defined once, and the refusal of
//! those a model cannot honour.

use crate::classifier::{OptimizerKind, ScheduleKind};
use crate::run_folder::default_out;
use clap::Args;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The training flags every model's training command takes, defined once. They mean what they
/// mean for the Learner's `train`; a model that cannot honour one refuses it by name
/// ([`RunFlags::refuse`], exit status 2) rather than ignoring it. Data flags (`--data-dir`,
/// the data set) belong to the model, which knows its data.
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct RunFlags {
    /// Epochs to train [default: the model's recipe]
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Examples per optimizer step [default: the model's recipe]
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Learning rate [default: the model's recipe]
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimizer [default: the model's recipe]
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Momentum (SGD, RMSprop) [default: the model's recipe]
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Weight decay (L2) [default: the model's recipe]
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// L1 penalty λ·Σ|w| on the weights (matrices and kernels, not biases), for sparse weights;
    /// 0 = off [default: 0]
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    pub l1: Option<f64>,
    /// Learning-rate schedule [default: the model's recipe]
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleKind>,
    /// Epochs of linear warm-up to --lr [default: the model's recipe]
    #[arg(long)]
    pub warmup_epochs: Option<usize>,
    /// Clip each parameter tensor's gradient to this L2 norm, 0 = off [default: the model's
    /// recipe]
    #[arg(long, visible_alias = "clip", value_name = "NORM")]
    pub grad_clip: Option<f64>,
    /// Seed for initialisation, dropout and sampling
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Data-parallel training on several devices, e.g. `flex,flex` (two CPU workers) or
    /// `cuda:0,cuda:1`: each step runs a batch on every device and sums their gradients into
    /// one optimizer step on the first
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "A,B,…",
        conflicts_with = "device"
    )]
    #[serde(default)]
    pub devices: Vec<String>,
    /// Sum the gradients of N batches before each optimizer step (a batch N times larger in
    /// memory one batch at a time)
    #[arg(long, value_name = "N", default_value_t = 1)]
    #[serde(default = "one")]
    pub grad_accumulation: usize,
    /// How several --devices train together [default: multi]
    #[arg(long, value_enum, requires = "devices")]
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// Output folder [default: models/<name>/runs/<UTC timestamp>]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its newest complete checkpoint
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Stop when the validation score has not improved for N epochs [default: the model's recipe]
    #[arg(long, value_name = "N")]
    pub early_stop: Option<usize>,
    /// Save a checkpoint every N epochs (an interrupted run loses at most N epochs)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub checkpoint_every: usize,
    /// k-fold cross-validation: train K models, each validated on its own stratified, seeded
    /// fold of the labelled training data (instead of the usual validation split), into
    /// <out>/fold-1..K, and write folds.json with the mean ± standard deviation
    #[arg(long, value_name = "K")]
    pub folds: Option<usize>,
    /// Use only the first N training examples
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,
    /// Use only the first N validation examples
    #[arg(long, value_name = "N")]
    pub limit_valid: Option<usize>,
    /// Use only the first N test examples
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,
}

/// How several devices train one model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Burn's MultiDevice: one worker thread per device, gradients summed on the first device,
    /// one optimizer step there (any backend, several CPU workers included)
    Multi,
    /// Distributed data parallel with an all-reduce of the gradients (Burn 0.22 implements the
    /// all-reduce for CUDA only)
    Ddp,
}

impl RunFlags {
    /// The training device: `--device`, or the one `--devices` names.
    pub fn device_name(&self) -> Option<&str> {
        self.device
            .device
            .as_deref()
            .or(self.devices.first().map(String::as_str))
    }

    /// Refuses the common flags this model cannot honour, naming them, with exit status 2.
    pub fn refuse(&self, model: &str, why: &str, flags: &[&str]) -> Result<(), crate::UsageError> {
        let given: Vec<&str> = flags
            .iter()
            .copied()
            .filter(|f| match *f {
                "--batch-size" => self.batch_size.is_some(),
                "--optimizer" => self.optimizer.is_some(),
                "--momentum" => self.momentum.is_some(),
                "--weight-decay" => self.weight_decay.is_some(),
                "--l1" => self.l1.is_some(),
                "--schedule" => self.schedule.is_some(),
                "--warmup-epochs" => self.warmup_epochs.is_some(),
                "--grad-clip" => self.grad_clip.is_some(),
                "--early-stop" => self.early_stop.is_some(),
                "--folds" => self.folds.is_some(),
                "--lr" => self.lr.is_some(),
                "--grad-accumulation" => self.grad_accumulation != 1,
                "--devices" => self.devices.len() > 1,
                "--limit-train" => self.limit_train.is_some(),
                "--limit-valid" => self.limit_valid.is_some(),
                "--limit-test" => self.limit_test.is_some(),
                other => unreachable!("RunFlags has no {other}"),
            })
            .collect();
        match given.as_slice() {
            [] => Ok(()),
            [flag] => Err(crate::UsageError(format!(
                "{flag} is not used by {model}: {why}"
            ))),
            flags => Err(crate::UsageError(format!(
                "{} are not used by {model}: {why}",
                flags.join(" and ")
            ))),
        }
    }

    /// Refuses several `--devices` and `--grad-accumulation` for a model whose optimizer steps
    /// cannot be split into independent batches, saying `why`.
    pub fn one_batch_per_step(&self, model: &str, why: &str) -> Result<(), crate::UsageError> {
        self.refuse(model, why, &["--devices", "--grad-accumulation"])
    }

    /// Refuses an `--optimizer` other than `kind`, the one the model trains with.
    pub fn only_optimizer(
        &self,
        model: &str,
        kind: OptimizerKind,
    ) -> Result<(), crate::UsageError> {
        match self.optimizer {
            Some(other) if other != kind => Err(crate::UsageError(format!(
                "--optimizer {} is not available for {model}: it trains with {} (its recipe)",
                other.name(),
                kind.name()
            ))),
            _ => Ok(()),
        }
    }

    /// `--out`, or a fresh timestamped folder for `name`.
    pub fn out_dir(&self, name: &str) -> PathBuf {
        self.out.clone().unwrap_or_else(|| default_out(name))
    }
}

pub(crate) fn one() -> usize {
    1
}

/// Which device runs the model.
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct DeviceArgs {
    /// Device: flex, ndarray, wgpu, vulkan, cuda, metal (those compiled in; `wgpu:1` picks a
    /// GPU) [default: the best compiled in]
    #[arg(long)]
    pub device: Option<String>,
}
