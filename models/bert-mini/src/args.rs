//! The flags of bert-mini's commands: which model folder, which architecture, batching, the
//! data, and the pretraining and fine-tuning settings.

use crate::config::BertConfig;
use clap::{Args, ValueEnum};
use datasets::source::DataSource;
use datasets::text::{CsvLayout, SHAKESPEARE, TextSet};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use trainer::cli::DeviceArgs;
use trainer::driver::RunFlags;

pub const NAME: &str = "bert-mini";

/// A model folder: a run of `pretrain`/`finetune`, a Hugging Face folder (config.json,
/// model.safetensors or pytorch_model.bin, tokenizer.json or vocab.txt), or `pretrained:NAME`
/// (`zoo weights` lists them).
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

/// Sequence length, batch and schedule flags shared by pretraining and fine-tuning.
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct BatchArgs {
    /// Tokens per input, [CLS] and [SEP] included
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
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
    /// Pretrained model folder (a `pretrain` run, or HF BertForMaskedLM / BertForPreTraining), or
    /// `pretrained:bert-mini-uncased` (Google's BERT-Mini from the Hugging Face Hub)
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
