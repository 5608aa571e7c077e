//! What the recurrent tasks share: the flags of `train`, `eval`, `generate`, `info`; the run's
//! settings, `config.json` and `report.json`; the weights a training loop checkpoints; loading,
//! exporting and describing saved models. The loops themselves are in `lm.rs` and
//! `classify.rs`, and the command line that dispatches to them in `cli.rs`.

use crate::cell::Cell;
use crate::config::{NetArgs, Recipe, Task, TextArgs};
use crate::model::{InputKind, ModelConfig, SequenceModel, pytorch};
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::ModuleOptimizer;
use burn::optim::decay::WeightDecayConfig;
use burn::prelude::*;
use clap::Args;
use datasets::{CharVocab, TokenVocab, Tokenization};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use trainer::cli::{DeviceArgs, WeightsArgs};
use trainer::driver::RunFlags;
use trainer::report::{Provenance, Report};

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[arg(long, value_enum, default_value_t = Task::CharLm)]
    pub task: Task,
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub data: TextArgs,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Args, Debug, Clone)]
pub struct InfoArgs {
    #[arg(long, value_enum, default_value_t = Task::CharLm)]
    pub task: Task,
    #[command(flatten)]
    pub data: TextArgs,
    #[command(flatten)]
    pub net: NetArgs,
}

/// Saved weights and where to run them.
#[derive(Args, Debug, Clone)]
pub struct SavedArgs {
    #[command(flatten)]
    pub weights: WeightsArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Folder holding `text/…` files [default: as for train]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub saved: SavedArgs,
    /// Text to continue
    #[arg(long, default_value = "\n")]
    pub prompt: String,
    /// Characters to generate
    #[arg(long, default_value_t = 500)]
    pub length: usize,
    /// Softmax temperature (lower is more conservative; 0 picks the most likely character)
    #[arg(long, default_value_t = 0.8)]
    pub temperature: f64,
    /// Sample only among the K most likely characters (0 = all)
    #[arg(long, value_name = "K", default_value_t = 40)]
    pub top_k: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Every training setting after flags and the task's recipe are merged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub clip: f64,
    pub seed: u64,
    pub early_stop: Option<usize>,
    pub checkpoint_every: usize,
    pub seq_len: usize,
    pub epoch_steps: Option<usize>,
    pub tokenization: Tokenization,
    pub vocab_size: usize,
    pub max_len: usize,
    /// Classification: the first N training / validation / test sequences only.
    #[serde(default)]
    pub limit_train: Option<usize>,
    #[serde(default)]
    pub limit_valid: Option<usize>,
    #[serde(default)]
    pub limit_test: Option<usize>,
    /// Classification: the fold of a k-fold cross-validation that validates this run.
    #[serde(default)]
    pub fold: Option<trainer::folds::Fold>,
}

impl Settings {
    pub fn new(args: &TrainArgs) -> Self {
        let recipe = Recipe::of(args.task);
        Self {
            epochs: args.run.epochs.unwrap_or(recipe.epochs),
            batch_size: args.run.batch_size.unwrap_or(recipe.batch_size),
            lr: args.run.lr.unwrap_or(recipe.lr),
            weight_decay: args.run.weight_decay.unwrap_or(0.0),
            clip: args.run.grad_clip.unwrap_or(recipe.clip),
            seed: args.run.seed,
            early_stop: args.run.early_stop,
            checkpoint_every: args.run.checkpoint_every.max(1),
            seq_len: args.data.seq_len.unwrap_or(recipe.seq_len),
            epoch_steps: args.data.epoch_steps.or(recipe.epoch_steps),
            tokenization: args.data.tokenization.unwrap_or(Tokenization::Words),
            vocab_size: args.data.vocab_size.unwrap_or(recipe.vocab_size),
            max_len: args.data.max_len.unwrap_or(recipe.max_len),
            limit_train: args.run.limit_train,
            limit_valid: args.run.limit_valid,
            limit_test: args.run.limit_test,
            fold: None,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.epochs > 0, "--epochs must be at least 1");
        anyhow::ensure!(self.batch_size > 0, "--batch-size must be at least 1");
        anyhow::ensure!(
            self.lr > 0.0 && self.lr.is_finite(),
            "--lr must be a positive number"
        );
        anyhow::ensure!(
            self.clip >= 0.0 && self.clip.is_finite(),
            "--grad-clip must be 0 (off) or a positive number"
        );
        Ok(())
    }

    /// The driver's plan for these settings (saved with the run, so a resumed run keeps them).
    pub fn plan(&self, resume: bool, select: trainer::driver::Select) -> trainer::driver::Plan {
        trainer::driver::Plan {
            epochs: self.epochs,
            resume,
            checkpoint_every: self.checkpoint_every,
            early_stop: self.early_stop,
            select,
        }
    }

    /// Adam (PyTorch's defaults) with this run's clipping and weight decay.
    pub fn optimizer(&self) -> ModuleOptimizer {
        let mut adam = trainer::optim::adam_config();
        if self.clip > 0.0 {
            adam = adam.with_grad_clipping(Some(GradientClippingConfig::Norm(self.clip as f32)));
        }
        if self.weight_decay > 0.0 {
            adam = adam.with_weight_decay(Some(WeightDecayConfig::new(self.weight_decay as f32)));
        }
        adam.init()
    }
}

/// The shape flags resolved against a task's recipe.
pub fn model_config<C: Cell>(
    task: Task,
    net: &NetArgs,
    input: InputKind,
    outputs: usize,
) -> ModelConfig {
    let recipe = Recipe::of(task);
    let input = match input {
        InputKind::Tokens { vocab, .. } => InputKind::Tokens {
            vocab,
            embedding: net.embedding.unwrap_or(recipe.embedding),
        },
        features => features,
    };
    ModelConfig {
        cell: C::NAME.into(),
        input,
        hidden: net.hidden.unwrap_or(recipe.hidden),
        layers: net.layers.unwrap_or(recipe.layers),
        bidirectional: net.bidirectional.unwrap_or(recipe.bidirectional),
        dropout: net.dropout.unwrap_or(recipe.dropout),
        outputs,
        pool: net.pool.unwrap_or(recipe.pool),
    }
}

/// How the model's tokens map to text, saved with it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Vocabulary {
    Chars(CharVocab),
    Tokens(TokenVocab),
    /// Seq-toy reads numbers.
    None,
}

/// `config.json`: enough to rebuild the model, read its data and repeat the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig {
    pub model: String,
    pub task: Task,
    pub model_config: ModelConfig,
    pub data: TextArgs,
    pub vocabulary: Vocabulary,
    pub class_names: Vec<String>,
    pub settings: Settings,
}

impl RunConfig {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let mut config: RunConfig = trainer::driver::RunFolder::read_config(path)?;
        if let Vocabulary::Tokens(vocab) = config.vocabulary {
            config.vocabulary = Vocabulary::Tokens(vocab.reindexed());
        }
        Ok(config)
    }
}

/// `report.json`: the trainer's report plus what the task measures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SequenceReport {
    #[serde(flatten)]
    pub report: Report,
    pub task: Task,
    pub best_epoch: usize,
    /// Median wall time of one epoch (training + validation).
    pub seconds_per_epoch: f64,
    /// Char-LM: validation loss in nats per character, and the same in bits and as perplexity.
    pub nats_per_char: Option<f64>,
    pub bits_per_char: Option<f64>,
    pub perplexity: Option<f64>,
}

impl SequenceReport {
    /// "best epoch 3; 41.2 s, 13.7 s/epoch, peak RSS …", the end of a run's last line.
    pub fn timing_note(&self) -> String {
        format!(
            "best epoch {}; {:.1} s, {:.1} s/epoch{}",
            self.best_epoch,
            self.report.wall_seconds,
            self.seconds_per_epoch,
            self.report.provenance.rss_note()
        )
    }
}

/// The run config for saved weights: `--config`, else `config.json` beside them.
pub fn saved_config(saved: &SavedArgs) -> anyhow::Result<RunConfig> {
    let Some(path) = saved.weights.run_config() else {
        anyhow::bail!(
            "--weights {}: no config.json beside it; pass --config with the config.json of the \
             run that wrote these weights",
            saved.weights.weights.display()
        )
    };
    RunConfig::read(&path)
}

/// The model of a saved run with its weights (`.bpk`, or `.safetensors` with PyTorch names).
pub fn load_saved<C: Cell>(
    saved: &SavedArgs,
) -> anyhow::Result<(SequenceModel, RunConfig, String, Device)> {
    let config = saved_config(saved)?;
    anyhow::ensure!(
        config.model_config.cell == C::NAME,
        "--weights {}: the run is a {} model, this binary is {}; use `cargo run -p {} -- ...`",
        saved.weights.weights.display(),
        config.model_config.cell,
        C::NAME,
        config.model_config.cell
    );
    let (device_name, device) = trainer::device::select_device(saved.device.device.as_deref())?;
    let model = load_file::<C>(&config, &saved.weights.weights, &device)?;
    Ok((model, config, device_name, device))
}

/// A model of `config` with the weights of `path` (burnpack, or safetensors under PyTorch's
/// names).
pub fn load_file<C: Cell>(
    config: &RunConfig,
    path: &Path,
    device: &Device,
) -> anyhow::Result<SequenceModel> {
    let model = SequenceModel::new::<C>(&config.model_config, device);
    trainer::weights::load_weights_renamed(model, path, &pytorch::from_torch(), &[])
}

/// `export`: safetensors with PyTorch's names.
pub fn export<C: Cell>(saved: &SavedArgs, output: &Path) -> anyhow::Result<()> {
    let (model, _, _, _) = load_saved::<C>(saved)?;
    trainer::weights::export_safetensors_renamed(&model, output, &pytorch::to_torch())?;
    println!("wrote {}", output.display());
    Ok(())
}

/// `info`: the network the flags build (vocabulary sizes are the task's defaults' worth).
pub fn info<C: Cell>(args: &InfoArgs) -> anyhow::Result<()> {
    let (input, outputs) = match args.task {
        Task::CharLm => (
            InputKind::Tokens {
                vocab: 81,
                embedding: 0,
            },
            81,
        ),
        Task::Classify => (
            InputKind::Tokens {
                vocab: args
                    .data
                    .vocab_size
                    .unwrap_or(Recipe::of(args.task).vocab_size)
                    + 2,
                embedding: 0,
            },
            2,
        ),
        Task::CompareHalves => (
            InputKind::Features {
                features: datasets::CompareHalves::FEATURES,
            },
            datasets::CompareHalves::CLASSES,
        ),
    };
    let config = model_config::<C>(args.task, &args.net, input, outputs);
    let model = SequenceModel::new::<C>(&config, &Device::default());
    println!(
        "{} for {}: {}",
        C::NAME,
        args.task.name(),
        serde_json::to_string(&config)?
    );
    println!("{model}");
    println!("parameters: {}", model.num_params());
    Ok(())
}

/// Token ids as a `[len]` Int tensor.
pub fn ids_tensor(ids: &[u32], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(v, [ids.len()]), device)
}

/// The median of the `epoch_seconds` rows after `start`.
pub fn median_epoch_seconds(rows: &[trainer::metrics::MetricRow], start: usize) -> f64 {
    let mut seconds: Vec<f64> = rows
        .iter()
        .filter(|r| r.metric == "epoch_seconds" && r.epoch > start)
        .map(|r| r.value)
        .collect();
    seconds.sort_by(f64::total_cmp);
    seconds.get(seconds.len() / 2).copied().unwrap_or(0.0)
}

/// A run's settings and data flags: the saved `config.json` when resuming (with a new
/// `--epochs` and `--data-dir` if given), else the flags and the task's recipe.
pub fn resolve_run(
    args: &TrainArgs,
    out: &Path,
) -> anyhow::Result<(Settings, TextArgs, Option<RunConfig>)> {
    let name = "the recurrent models";
    args.run.refuse(
        name,
        "they train with Adam at a constant rate (no momentum flag, schedule, warm-up or L1 \
         penalty)",
        &["--momentum", "--schedule", "--warmup-epochs", "--l1"],
    )?;
    args.run
        .only_optimizer(name, trainer::OptimizerKind::Adam)?;
    if args.task == Task::CharLm {
        args.run.refuse(
            "the character language model",
            "it reads the text as streams; use --text for another corpus and --epoch-steps for \
             shorter epochs",
            &["--limit-train", "--limit-valid", "--limit-test"],
        )?;
        args.run.one_batch_per_step(
            "the character language model",
            "each window continues the streams' state from the one before (truncated \
             backpropagation through time), so windows cannot be shared out; use --batch-size \
             for more streams per step",
        )?;
    }
    let resolved = if args.run.resume {
        let saved = RunConfig::read(&out.join("config.json"))?;
        let mut settings = saved.settings.clone();
        if let Some(epochs) = args.run.epochs {
            settings.epochs = epochs;
        }
        let data = TextArgs {
            data_dir: args.data.data_dir.clone(),
            ..saved.data.clone()
        };
        (settings, data, Some(saved))
    } else {
        (Settings::new(args), args.data.clone(), None)
    };
    resolved.0.validate()?;
    Ok(resolved)
}

/// What every recurrent training loop checkpoints: the model being trained, an inference copy
/// of the best one so far, and the optimizer.
pub struct Weights {
    pub model: SequenceModel,
    pub best: SequenceModel,
    pub optim: ModuleOptimizer,
}

impl Weights {
    /// A fresh model on `device` (an autodiff device) and the run's optimizer.
    pub fn new<C: Cell>(config: &ModelConfig, settings: &Settings, device: &Device) -> Self {
        let model = SequenceModel::new::<C>(config, device);
        Self {
            best: model.valid(),
            model,
            optim: settings.optimizer(),
        }
    }

    pub fn keep_best(&mut self) {
        self.best = self.model.valid();
    }

    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        use trainer::driver::{save_module, save_optimizer};
        save_module(&self.model, dir, "model")?;
        save_module(&self.best, dir, "best")?;
        save_optimizer(&self.optim, dir, "optim")
    }

    /// Restores a checkpoint written by [`save`](Self::save); unchanged on failure.
    pub fn load(&mut self, dir: &Path, settings: &Settings) -> anyhow::Result<()> {
        use trainer::driver::{load_module, load_optimizer};
        let model = load_module(self.model.clone(), dir, "model")?;
        let best = load_module(self.best.clone(), dir, "best")?;
        let optim = load_optimizer(settings.optimizer(), dir, "optim")?;
        (self.model, self.best, self.optim) = (model, best, optim);
        Ok(())
    }
}

/// What a finished training loop measured.
pub struct Finished<'a> {
    pub task: Task,
    pub dataset: String,
    pub device: String,
    pub settings: &'a Settings,
    pub epochs_completed: usize,
    /// The epoch the run resumed from (0 for a new run).
    pub start: usize,
    pub train_samples: usize,
    pub valid_samples: usize,
    /// Samples one epoch trains on (characters for the char-LM), for the throughput.
    pub samples_per_epoch: usize,
    pub parameters: usize,
    pub test: trainer::TestMetrics,
    pub best_epoch: usize,
    /// Seconds of training, up to the final evaluation.
    pub wall_seconds: f64,
    /// Classification: the class names, in label order.
    pub class_names: &'a [String],
}

/// Writes `report.json` of a finished run and returns it.
pub fn write_report<C: Cell>(
    run: &trainer::driver::RunFolder,
    finished: Finished,
) -> anyhow::Result<SequenceReport> {
    let seconds_per_epoch = median_epoch_seconds(run.rows(), finished.start);
    let nats = (finished.task == Task::CharLm).then_some(finished.test.loss);
    let report = SequenceReport {
        report: Report {
            model: C::NAME.into(),
            dataset: finished.dataset,
            device: finished.device,
            seed: finished.settings.seed,
            epochs_completed: finished.epochs_completed,
            epochs_requested: finished.settings.epochs,
            resumed_from_epoch: (finished.start > 0).then_some(finished.start),
            train_samples: finished.train_samples,
            valid_samples: finished.valid_samples,
            wall_seconds: finished.wall_seconds,
            train_samples_per_second: if seconds_per_epoch > 0.0 {
                finished.samples_per_epoch as f64 / seconds_per_epoch
            } else {
                0.0
            },
            parameters: finished.parameters,
            weights_near_zero_percent: None,
            skipped_files: 0,
            test: finished.test.clone(),
            provenance: Provenance::now(),
        },
        task: finished.task,
        best_epoch: finished.best_epoch,
        seconds_per_epoch,
        nats_per_char: nats,
        bits_per_char: nats.map(|n| n / std::f64::consts::LN_2),
        perplexity: nats.map(f64::exp),
    };
    run.write_json("report.json", &report)?;
    Ok(report)
}
