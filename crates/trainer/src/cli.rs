//! The flags every model binary shares. A model adds its own through `M::Config`, flattened
//! into each subcommand.

use crate::classifier::{AugmentKind, DatasetKind};
pub use crate::flags::{DeviceArgs, RunFlags};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(version, propagate_version = true)]
pub struct Cli<C: Args> {
    #[command(subcommand)]
    pub command: Command<C>,
}

// One command is parsed per process, so the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command<C: Args> {
    /// Train on the training split, validate every epoch, then evaluate on the test split.
    Train(TrainArgs<C>),
    /// Test-set metrics of saved weights.
    Eval(EvalArgs<C>),
    /// Classes and probabilities for image files or test-set items.
    Predict(PredictArgs<C>),
    /// Write weights as safetensors with PyTorch parameter names.
    Export(ExportArgs<C>),
    /// Parameter count, layer summary and the devices this binary was built with.
    Info(InfoArgs<C>),
    /// Quantize saved weights to 8 bits; report file size, test accuracy and latency before
    /// and after.
    Quantize(QuantizeArgs<C>),
    /// Prune saved weights by magnitude to target sparsities, fine-tuning with the zeros kept;
    /// report sparsity per layer, test accuracy and file size.
    Prune(PruneArgs<C>),
}

/// Where data comes from.
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct DataArgs {
    /// Data set [default: the model's own]
    #[arg(long, value_enum)]
    pub dataset: Option<DatasetKind>,
    /// Folder holding data sets in their official layout, e.g. <DIR>/mnist/*.gz,
    /// <DIR>/cifar-10/cifar-10-binary.tar.gz [env: ZOO_DATA_DIR]; with --dataset folder, the
    /// image folder itself
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// --dataset folder: the side images are resized (shorter side) and centre-cropped to
    /// [default: 32; a saved run's own size]
    #[arg(long, value_name = "PIXELS")]
    #[serde(default)]
    pub image_size: Option<usize>,
    /// Classes of the model's head when no config.json says, e.g. 1000 for ImageNet weights
    /// [default: the data set's]
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub num_classes: Option<usize>,
}

impl DataArgs {
    /// These flags for data shaped as `spec` (an image folder is read at the saved run's size).
    pub fn sized_for(&self, spec: &crate::DataSpec) -> Self {
        Self {
            image_size: self.image_size.or(Some(spec.height)),
            ..self.clone()
        }
    }
}

/// `train` of an image classifier: the common training flags ([`RunFlags`], the same in every
/// model) and the Learner's own.
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct TrainArgs<C: Args> {
    #[command(flatten)]
    pub run: RunFlags,
    /// Nesterov momentum (SGD) [default: the model's recipe]
    #[arg(long)]
    pub nesterov: Option<bool>,
    /// Step schedule: multiply the rate by --step-gamma every this many epochs
    #[arg(long, default_value_t = 30)]
    pub step_epochs: usize,
    /// Step schedule factor
    #[arg(long, default_value_t = 0.1)]
    pub step_gamma: f64,
    /// Training-time augmentation [default: the model's recipe]
    #[arg(long, value_enum)]
    pub augment: Option<AugmentKind>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Fraction of the training split held out for validation
    #[arg(long, default_value_t = 0.1)]
    pub valid_fraction: f64,
    /// Start from these weights (.bpk, or PyTorch-named .safetensors or .pth): every tensor
    /// that fits is loaded, the rest (a head for another class count) keeps its fresh
    /// initialisation, and the run says which
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,
    /// With --init: initialise the classifier head afresh even when the file's fits (new
    /// classes with the same count)
    #[arg(long, requires = "init")]
    pub reset_head: bool,
    /// Train the classifier head only; the rest of the network is a fixed feature extractor
    /// (no gradients, batch-norm statistics and dropout frozen). Usually with --init
    #[arg(long)]
    pub freeze_backbone: bool,
    /// Data-loading worker threads; above 1, batches arrive in thread-timing order, so runs
    /// are no longer bit-for-bit reproducible
    #[arg(long, default_value_t = 1)]
    pub num_workers: usize,
    /// Knowledge distillation: also learn from this trained classifier's softened
    /// probabilities (the model.bpk of a `train` run folder; its config.json names the
    /// architecture, which may be another model of the zoo when run as `zoo <model> train`).
    /// It must classify the same data set
    #[arg(long, value_name = "FILE")]
    pub teacher: Option<PathBuf>,
    /// Distillation temperature T (with --teacher) [default: 4]
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// Weight α of the teacher's soft targets; the labels' cross-entropy gets 1 − α (with
    /// --teacher) [default: 0.9]
    #[arg(long, value_name = "A")]
    pub alpha: Option<f64>,
    /// Weights that are exactly zero stay zero: each optimizer update is masked where the
    /// weight is 0 (fine-tuning pruned weights; `prune` sets it)
    #[arg(long)]
    pub keep_zeros: bool,

    #[command(flatten)]
    pub model: C,
}

impl<C: Args> TrainArgs<C> {
    /// `train` with every flag at its default and `model` as the model flags.
    pub fn defaults(model: C) -> Self {
        #[derive(Parser)]
        struct Only<C: Args> {
            #[command(flatten)]
            train: TrainArgs<C>,
        }
        let mut train = Only::<C>::try_parse_from(["train"])
            .expect("train's flags all have defaults")
            .train;
        train.model = model;
        train
    }
}

/// Weights to load, and the config they were trained with.
#[derive(Args, Debug, Clone)]
pub struct WeightsArgs {
    /// Weights: a .bpk written by `train`, .safetensors or a PyTorch .pth with PyTorch names,
    /// or pretrained:NAME from the registry (`zoo weights` lists them)
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Model config JSON [default: config.json beside --weights, else the model flags]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl WeightsArgs {
    /// The run config to use: `--config`, else a `config.json` beside the weights, else none
    /// (the model flags apply).
    pub fn run_config(&self) -> Option<PathBuf> {
        self.config.clone().or_else(|| {
            self.weights
                .parent()
                .map(|p| p.join("config.json"))
                .filter(|p| p.is_file())
        })
    }
}

/// One model's weights or several (an ensemble), and the config they were trained with.
#[derive(Args, Debug, Clone)]
pub struct EnsembleArgs {
    /// Weights: a .bpk written by `train`, or .safetensors with PyTorch names. Several
    /// (`--weights a.bpk b.bpk c.bpk`) are evaluated as an ensemble: the mean of their class
    /// probabilities (or a majority vote with --vote), each member reported too
    #[arg(long, value_name = "FILE", num_args = 1.., required = true, action = clap::ArgAction::Append)]
    pub weights: Vec<PathBuf>,
    /// Model config JSON, for every member [default: config.json beside each --weights, else
    /// the model flags]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Combine an ensemble's members by majority vote (ties to the most probable class) rather
    /// than by averaging their probabilities
    #[arg(long)]
    pub vote: bool,
}

impl EnsembleArgs {
    /// Each member as a single model's weights.
    pub fn members(&self) -> Vec<WeightsArgs> {
        self.weights
            .iter()
            .map(|w| WeightsArgs {
                weights: w.clone(),
                config: self.config.clone(),
            })
            .collect()
    }

    /// How the members are combined, for printing: `mean of 3 members' probabilities`.
    pub fn describe(&self) -> String {
        let n = self.weights.len();
        if self.vote {
            format!("majority vote of {n} members")
        } else {
            format!("mean of {n} members' probabilities")
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct EvalArgs<C: Args> {
    #[command(flatten)]
    pub weights: EnsembleArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Batch size for evaluation
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Use only the first N test images
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,
    /// Also write the metrics to this JSON file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub outputs: EvalOutputArgs,
    #[command(flatten)]
    pub model: C,
}

/// Where `eval` writes the confusion matrix and the ROC/PR curves.
#[derive(Args, Debug, Clone, Default)]
pub struct EvalOutputArgs {
    /// Folder for confusion.csv/png, roc.csv/png and pr.csv/png [default: eval/ beside
    /// --weights]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl EvalOutputArgs {
    /// `--out`, else `eval/` in the folder of `weights`.
    pub fn dir(&self, weights: &std::path::Path) -> PathBuf {
        self.or_in(weights.parent().unwrap_or(std::path::Path::new(".")))
    }

    /// `--out`, else `eval/` in `folder` (a model folder).
    pub fn or_in(&self, folder: &std::path::Path) -> PathBuf {
        self.out.clone().unwrap_or_else(|| folder.join("eval"))
    }
}

#[derive(Args, Debug, Clone)]
pub struct PredictArgs<C: Args> {
    /// Weights: a .bpk written by `train`, or .safetensors with PyTorch names; repeat the flag
    /// (`--weights a.bpk --weights b.bpk`) to predict with the ensemble's mean probabilities
    #[arg(long, value_name = "FILE", required = true, action = clap::ArgAction::Append)]
    pub weights: Vec<PathBuf>,
    /// Model config JSON, for every member [default: config.json beside each --weights]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Image files (PNG or JPEG), resized to the model's input
    #[arg(value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Test-set items to classify, by index
    #[arg(long, value_name = "N", value_delimiter = ',')]
    pub index: Vec<usize>,
    /// How many classes to show per input
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Also write, for each input, the top classes' indices, names and probabilities to this
    /// JSON file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: C,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs<C: Args> {
    #[command(flatten)]
    pub weights: WeightsArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Output .safetensors file
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub model: C,
}

#[derive(Args, Debug, Clone)]
pub struct InfoArgs<C: Args> {
    #[command(flatten)]
    pub data: DataArgs,
    /// Model config JSON [default: the model flags]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub model: C,
}

/// How weights are quantized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QuantKind {
    /// Signed 8-bit, one scale per tensor
    Q8Tensor,
    /// Signed 8-bit, one scale per block of 32 values along the last dimension (tensors whose
    /// last dimension is not a multiple of 32 stay f32)
    Q8Block32,
}

/// The flags of every model's `quantize`.
#[derive(Args, Debug, Clone)]
pub struct QuantizeFlags {
    /// Quantization scheme
    #[arg(long, value_enum, default_value = "q8-tensor")]
    pub scheme: QuantKind,
    /// The quantized weights to write (.bpk; `eval` and `predict` load it like any other)
    #[arg(long, value_name = "FILE.bpk")]
    pub out: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct QuantizeArgs<C: Args> {
    #[command(flatten)]
    pub weights: WeightsArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub quantize: QuantizeFlags,
    /// Evaluate on the first N test images only
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,
    #[command(flatten)]
    pub model: C,
}

/// Which weights compete for pruning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PruneScope {
    /// One magnitude threshold over all weights: layers end up as sparse as their weights are
    /// small
    Global,
    /// The same share of every weight tensor
    Layer,
}

#[derive(Args, Debug, Clone)]
pub struct PruneArgs<C: Args> {
    #[command(flatten)]
    pub weights: WeightsArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Target sparsities: the share of weights (dense matrices and convolution kernels) set to
    /// zero, in [0, 1); several (`0.5,0.8,0.9,0.95`) give accuracy against sparsity
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.8",
        allow_negative_numbers = true
    )]
    pub sparsity: Vec<f64>,
    /// Pruning scope
    #[arg(long, value_enum, default_value = "global")]
    pub scope: PruneScope,
    /// Prune-and-fine-tune rounds; the sparsity rises as s·(1 − (1 − r/R)³) (Zhu & Gupta 2017)
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Fine-tuning epochs after each round, pruned weights kept at zero (0: prune only)
    #[arg(long, default_value_t = 1)]
    pub finetune_epochs: usize,
    /// Fine-tuning learning rate, decayed by the run's schedule without warm-up [default: half
    /// the trained run's]
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of the fine-tuning runs
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Folder for the pruned weights (sparsity-80/model.bpk, …), prune.csv and prune.json
    /// [default: pruned/ beside --weights]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Fine-tune on the first N training images only
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,
    /// Validate fine-tuning on the first N held-out images only
    #[arg(long, value_name = "N")]
    pub limit_valid: Option<usize>,
    /// Evaluate on the first N test images only
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,
    #[command(flatten)]
    pub model: C,
}
