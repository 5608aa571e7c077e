//! The command line: `pretrain` (masked LM, optional NSP), `finetune --task classify`,
//! `predict`, `fill-mask`, `attend`, `export`, `info`. Training runs through the trainer's
//! custom-loop path (metrics.csv, one line per epoch, checkpoints, `--resume`, curves,
//! report.json). A run folder is also a Hugging Face model folder: `config.json` is HF's
//! `BertConfig`, beside `tokenizer.json`, `vocab.txt` and `model.bpk` (`export` adds
//! `model.safetensors`).

use crate::config::BertConfig;
use clap::{Args, Parser, Subcommand, ValueEnum};
use datasets::source::DataSource;
use datasets::text::{CsvLayout, SHAKESPEARE, TextSet};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use trainer::cli::DeviceArgs;
use trainer::driver::RunFlags;

pub const NAME: &str = "bert-mini";

#[derive(Parser, Debug)]
#[command(
    name = "bert-mini",
    version,
    about = "BERT-Mini: WordPiece, masked-LM pretraining, fine-tuning, fill-mask, attention maps, Hugging Face weights"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train a WordPiece vocabulary and pretrain with masked-LM (and --nsp) on a text corpus.
    Pretrain(PretrainArgs),
    /// Fine-tune for sequence classification, from pretrained weights or --from-scratch.
    Finetune(FinetuneArgs),
    /// Score a model folder: a classifier on the test CSV (accuracy, F1), a language model on
    /// the held-out corpus (masked-LM accuracy and loss).
    Eval {
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        data: DataArgs,
        /// Tokens per input, [CLS] and [SEP] included
        #[arg(long, default_value_t = 128)]
        max_len: usize,
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// Score only the first N test texts / held-out windows
        #[arg(long, value_name = "N")]
        limit_test: Option<usize>,
    },
    /// Classify texts with a fine-tuned model.
    Predict {
        #[command(flatten)]
        model: ModelArgs,
        /// Text to classify (repeat for several)
        #[arg(long, required = true)]
        text: Vec<String>,
    },
    /// Top-k predictions for each [MASK] in a text.
    FillMask {
        #[command(flatten)]
        model: ModelArgs,
        /// Text with one or more [MASK] tokens
        #[arg(long)]
        text: String,
        /// Predictions per mask
        #[arg(long, default_value_t = 5)]
        top: usize,
    },
    /// Write one attention head's probabilities over a text as a PNG heatmap.
    Attend {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long)]
        text: String,
        /// Layer, from 0
        #[arg(long, default_value_t = 0)]
        layer: usize,
        /// Head, from 0
        #[arg(long, default_value_t = 0)]
        head: usize,
        /// PNG to write [default: attention-L<layer>-H<head>.png in --model]
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Write a model folder `transformers` opens: model.safetensors with HF names,
    /// config.json, tokenizer.json, vocab.txt.
    Export {
        #[command(flatten)]
        model: ModelArgs,
        /// Folder to write
        #[arg(long)]
        output: PathBuf,
    },
    /// Config, parameter counts and vocabulary of a model folder.
    Info {
        #[command(flatten)]
        model: ModelArgs,
    },
}

/// A model folder: a run of `pretrain`/`finetune`, or a Hugging Face folder (config.json,
/// model.safetensors, tokenizer.json or vocab.txt).
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// The encoder's size (BERT-Mini by default).
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct ArchArgs {
    /// Transformer layers
    #[arg(long, default_value_t = 4)]
    pub layers: usize,
    /// Hidden size (d_model)
    #[arg(long, default_value_t = 256)]
    pub hidden: usize,
    /// Attention heads
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    /// Feed-forward width [default: 4 × --hidden]
    #[arg(long)]
    pub intermediate: Option<usize>,
}

impl ArchArgs {
    pub fn config(&self, vocab_size: usize, pad_token_id: u32) -> anyhow::Result<BertConfig> {
        let mut config = BertConfig::mini(vocab_size);
        config.num_hidden_layers = self.layers;
        config.hidden_size = self.hidden;
        config.num_attention_heads = self.heads;
        config.intermediate_size = self.intermediate.unwrap_or(4 * self.hidden);
        config.pad_token_id = pad_token_id as usize;
        config
            .validate()
            .map_err(|e| anyhow::anyhow!("--layers/--hidden/--heads: {e}"))?;
        Ok(config)
    }
}

/// Sequence length, batch and schedule flags shared by pretraining and fine-tuning.
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct BatchArgs {
    /// Tokens per input, [CLS] and [SEP] included
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    /// Sequences per optimizer step
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Fraction of the steps spent warming the learning rate up linearly (then linear decay)
    #[arg(long, default_value_t = 0.1)]
    pub warmup: f64,
    /// Print a progress line every N steps (0: only per epoch)
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub log_every: usize,
}

#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct PretrainArgs {
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub arch: ArchArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// WordPiece vocabulary size to train
    #[arg(long, default_value_t = 8000)]
    pub vocab_size: usize,
    /// Use this tokenizer.json / vocab.txt (or folder) instead of training one
    #[arg(long, value_name = "PATH")]
    pub tokenizer: Option<PathBuf>,
    /// Add next-sentence prediction (BERT's second objective; RoBERTa found it unhelpful)
    #[arg(long)]
    pub nsp: bool,
    /// Use only the first N training windows (smoke runs)
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,
    /// Use only the first N held-out windows
    #[arg(long, value_name = "N")]
    pub limit_valid: Option<usize>,
}

/// Where text comes from: a corpus for masked-LM, labelled CSVs for classification.
#[derive(Args, Debug, Clone, Default, Serialize, Deserialize)]
pub struct DataArgs {
    /// Folder holding `text/shakespeare.txt` and `text/spam-{train,test}.csv`
    /// [default: $ZOO_DATA_DIR, then the workspace's datasets/]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Masked-LM corpus: any UTF-8 text file (plain or .gz), or a `label,text` CSV whose texts
    /// are used without their labels [default: Shakespeare]
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// Fraction of the corpus (its last lines) held out for the MLM accuracy
    #[arg(long, default_value_t = 0.05)]
    pub valid_fraction: f64,
    /// Classification: training CSV with a header and `label,text` columns [default: spam/ham]
    #[arg(long, value_name = "FILE", requires = "test_csv")]
    pub csv: Option<PathBuf>,
    /// Classification: test CSV with the same columns and labels
    #[arg(long, value_name = "FILE", requires = "csv")]
    pub test_csv: Option<PathBuf>,
}

impl DataArgs {
    /// The labelled sets: (train, test).
    pub fn text_sets(&self) -> anyhow::Result<(TextSet, TextSet)> {
        Ok(match (&self.csv, &self.test_csv) {
            (Some(train), Some(test)) => {
                let train = TextSet::read_csv(train, &CsvLayout::label_text(), None)?;
                let test =
                    TextSet::read_csv(test, &CsvLayout::label_text(), Some(&train.class_names))?;
                (train, test)
            }
            _ => TextSet::spam(&DataSource::new(self.data_dir.clone()))?,
        })
    }

    /// The masked-LM corpus file.
    pub fn corpus_path(&self) -> anyhow::Result<PathBuf> {
        Ok(match &self.text {
            Some(p) => p.clone(),
            None => DataSource::new(self.data_dir.clone()).resolve("text", &SHAKESPEARE)?,
        })
    }
}

/// Fine-tuning tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum FinetuneTask {
    /// Sequence classification from the pooled [CLS] vector.
    Classify,
}

#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct FinetuneArgs {
    #[arg(long, value_enum, default_value_t = FinetuneTask::Classify)]
    pub task: FinetuneTask,
    #[command(flatten)]
    pub run: RunFlags,
    #[command(flatten)]
    pub batch: BatchArgs,
    /// Pretrained model folder (a `pretrain` run, or HF BertForMaskedLM / BertForPreTraining)
    #[arg(long, value_name = "DIR", required_unless_present = "from_scratch")]
    pub pretrained: Option<PathBuf>,
    /// Start from random weights. With --pretrained, its config and tokenizer are kept and only
    /// the weights are fresh (the fair comparison); without, a tokenizer is trained on --csv.
    #[arg(long)]
    pub from_scratch: bool,
    #[command(flatten)]
    pub arch: ArchArgs,
    /// WordPiece vocabulary size, when a tokenizer is trained here
    #[arg(long, default_value_t = 8000)]
    pub vocab_size: usize,
    #[command(flatten)]
    pub data: DataArgs,
    /// Use only the first N training examples (smoke runs)
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,
    /// Use only the first N test examples
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pretrain(args) => crate::pretrain::pretrain(args).map(|_| ()),
        Command::Finetune(args) => crate::finetune::finetune(args).map(|_| ()),
        Command::Eval {
            model,
            data,
            max_len,
            batch_size,
            limit_test,
        } => crate::inference::eval(&model, &data, max_len, batch_size, limit_test),
        Command::Predict { model, text } => crate::inference::predict(&model, &text),
        Command::FillMask { model, text, top } => {
            crate::inference::fill_mask(&model, &text, top).map(|_| ())
        }
        Command::Attend {
            model,
            text,
            layer,
            head,
            output,
        } => crate::inference::attend(&model, &text, layer, head, output).map(|_| ()),
        Command::Export { model, output } => crate::inference::export(&model, &output),
        Command::Info { model } => crate::inference::info(&model),
    }
}

/// `bert-mini` in the zoo's registry: what it is, and its command line.
pub const ENTRY: trainer::entry::ModelEntry = trainer::entry::ModelEntry {
    about: trainer::entry::About {
        name: "bert-mini",
        task: "masked-LM pretraining, text classification, fill-mask",
        datasets: &["shakespeare", "spam"],
        paper: "Devlin et al. 2019, arXiv:1810.04805 (BERT); Turc et al. 2019, arXiv:1908.08962 (BERT-Mini)",
    },
    command: || trainer::entry::named_command::<Cli>("bert-mini"),
    run: |args| trainer::entry::run_parsed::<Cli>("bert-mini", args, run),
    smoke: trainer::entry::Smoke {
        train: &[
            "pretrain",
            "--epochs",
            "1",
            "--layers",
            "1",
            "--hidden",
            "32",
            "--heads",
            "2",
            "--max-len",
            "32",
            "--batch-size",
            "8",
            "--vocab-size",
            "500",
            "--limit-train",
            "16",
            "--limit-valid",
            "8",
            "--log-every",
            "0",
        ],
        info: &["info", "--model", "{out}"],
        weights: "model.bpk",
        eval: Some(&[
            "eval",
            "--model",
            "{out}",
            "--max-len",
            "32",
            "--limit-test",
            "8",
        ]),
        figure: "/valid_mlm_loss",
        export: None,
    },
};
