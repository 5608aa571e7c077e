//! Flags and each task's recipe. A flag left out takes the task's default, written down here
//! with where it comes from.

use clap::{Args, ValueEnum};
use datasets::{CsvLayout, Tokenization};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Character language model on a text file (Shakespeare by default).
    CharLm,
    /// Text classification on a CSV (`--dataset spam` or `--csv FILE`).
    Classify,
    /// A synthetic order test: 10 steps × 3 features; the class says whether feature 0 sums
    /// higher over the last five steps than over the first five (a bag of steps is at chance).
    #[value(alias = "seq-toy")]
    #[serde(alias = "seq-toy")]
    CompareHalves,
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::CharLm => "char-lm",
            Task::Classify => "classify",
            Task::CompareHalves => "compare-halves",
        }
    }
}

/// Network shape flags.
#[derive(Args, Clone, Debug, Default, Serialize, Deserialize)]
pub struct NetArgs {
    /// Recurrent layers [default: 2 for char-lm, 1 otherwise]
    #[arg(long)]
    pub layers: Option<usize>,
    /// Hidden size [default: 512 char-lm, 128 classify, 32 compare-halves]
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Embedding size for token input [default: 128 char-lm, 64 classify]
    #[arg(long)]
    pub embedding: Option<usize>,
    /// Run a second layer stack backwards over the sequence and join the two (`--bidirectional
    /// false` turns it off) [default: on for classify, off otherwise]
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub bidirectional: Option<bool>,
    /// classify: how the per-step outputs become one vector [default: max]
    #[arg(long, value_enum)]
    pub pool: Option<crate::model::Pool>,
    /// Dropout between recurrent layers and before the head [default: 0 char-lm and compare-halves, 0.3 classify]
    #[arg(long)]
    pub dropout: Option<f64>,
}

/// Where text comes from and how it is cut.
#[derive(Args, Clone, Debug, Default, Serialize, Deserialize)]
pub struct TextArgs {
    /// Folder holding `text/…` files [default: $ZOO_DATA_DIR, then the workspace's datasets/]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// char-lm: any UTF-8 text file (plain or .gz) [default: Shakespeare]
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// char-lm: fraction of the text (its end) held out for validation
    #[arg(long, default_value_t = 0.1)]
    pub valid_fraction: f64,
    /// char-lm: characters per window (truncated backpropagation length) [default: 128]
    #[arg(long)]
    pub seq_len: Option<usize>,
    /// char-lm: optimizer steps per epoch (validation and a checkpoint after each); the
    /// text is read on from where the last epoch stopped [default: 250]
    #[arg(long, value_name = "N")]
    pub epoch_steps: Option<usize>,
    /// classify: a built-in data set (spam: SpamAssassin ham/spam)
    #[arg(long, value_enum, conflicts_with = "csv")]
    pub dataset: Option<TextDataset>,
    /// classify: training CSV (see --csv-layout)
    #[arg(long, value_name = "FILE", requires = "test_csv")]
    pub csv: Option<PathBuf>,
    /// classify: test CSV with the same layout and labels
    #[arg(long, value_name = "FILE", requires = "csv")]
    pub test_csv: Option<PathBuf>,
    /// classify: column layout of --csv
    #[arg(long, value_enum, default_value_t = Layout::LabelText)]
    pub csv_layout: Layout,
    /// classify: 1-based column of the label in --csv (overrides --csv-layout)
    #[arg(long, value_name = "N")]
    pub label_column: Option<usize>,
    /// classify: 1-based column of the text in --csv; repeat for several, joined with a space
    /// (overrides --csv-layout)
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub text_column: Vec<usize>,
    /// classify: words (lowercased) or characters [default: words]
    #[arg(long, value_enum)]
    pub tokenization: Option<Tokenization>,
    /// classify: keep the N most frequent tokens (plus <pad> and <unk>) [default: 20000]
    #[arg(long, value_name = "N")]
    pub vocab_size: Option<usize>,
    /// classify: cut texts to their first N tokens [default: 400]
    #[arg(long, value_name = "N")]
    pub max_len: Option<usize>,
}

impl TextArgs {
    /// The CSV columns: `--csv-layout`, with `--label-column` / `--text-column` applied.
    pub fn columns(&self) -> anyhow::Result<CsvLayout> {
        let mut layout = self.csv_layout.columns();
        let zero_based = |n: usize, flag: &str| {
            n.checked_sub(1)
                .ok_or_else(|| anyhow::anyhow!("{flag} counts from 1, got 0"))
        };
        if let Some(n) = self.label_column {
            layout.label_column = zero_based(n, "--label-column")?;
        }
        if !self.text_column.is_empty() {
            layout.text_columns = self
                .text_column
                .iter()
                .map(|&n| zero_based(n, "--text-column"))
                .collect::<anyhow::Result<_>>()?;
        }
        Ok(layout)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TextDataset {
    /// SpamAssassin public corpus, 4,837 train / 1,209 test e-mails (ham, spam)
    Spam,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `label,text` with a header row
    #[default]
    LabelText,
    /// AG News: class index, title, description; no header
    AgNews,
}

impl Layout {
    pub fn columns(self) -> CsvLayout {
        match self {
            Layout::LabelText => CsvLayout::label_text(),
            Layout::AgNews => CsvLayout::ag_news(),
        }
    }
}

/// A task's defaults.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recipe {
    pub layers: usize,
    pub hidden: usize,
    pub embedding: usize,
    pub bidirectional: bool,
    /// How a classifier reads the outputs.
    pub pool: crate::model::Pool,
    pub dropout: f64,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Gradient norm clipping per parameter tensor (0 = off).
    pub clip: f64,
    pub seq_len: usize,
    pub vocab_size: usize,
    pub max_len: usize,
    /// Char-LM: optimizer steps per epoch (None = a whole pass over the text).
    pub epoch_steps: Option<usize>,
}

impl Recipe {
    pub fn of(task: Task) -> Self {
        match task {
            // Karpathy's char-rnn Shakespeare setup (2 × 512, windows of 128 carried across
            // batches, clipping 5) with Adam 2e-3. No dropout: a pass over the 4.5 M training
            // characters is far from overfitting the 3.4 M parameters. An epoch is 250 steps
            // (2 M characters, about 45% of a pass), so validation and checkpoints come every
            // quarter hour on a 2-core CPU; 4 epochs are 1.8 passes.
            Task::CharLm => Self {
                layers: 2,
                hidden: 512,
                embedding: 128,
                bidirectional: false,
                pool: crate::model::Pool::Last,
                dropout: 0.0,
                epochs: 4,
                batch_size: 64,
                lr: 2e-3,
                clip: 5.0,
                seq_len: 128,
                vocab_size: 0,
                max_len: 0,
                epoch_steps: Some(250),
            },
            // A one-layer bidirectional word LSTM over the first 400 tokens of each e-mail,
            // max-pooled over the steps. Reading only the final states, the same model reached
            // 95.95% on the spam test set (spam F1 93.4%) against 98.35% (97.4%) pooled: the
            // evidence is spread over hundreds of tokens that a final state has to carry.
            Task::Classify => Self {
                layers: 1,
                hidden: 128,
                embedding: 64,
                bidirectional: true,
                pool: crate::model::Pool::Max,
                dropout: 0.3,
                epochs: 6,
                batch_size: 32,
                lr: 2e-3,
                clip: 5.0,
                seq_len: 0,
                vocab_size: 20_000,
                max_len: 400,
                epoch_steps: None,
            },
            // The guide's version used an LSTM of 10 units and Adam; 32 units learn the rule in seconds.
            Task::CompareHalves => Self {
                layers: 1,
                hidden: 32,
                embedding: 0,
                bidirectional: false,
                pool: crate::model::Pool::Last,
                dropout: 0.0,
                epochs: 15,
                batch_size: 64,
                lr: 1e-2,
                clip: 5.0,
                seq_len: 10,
                vocab_size: 0,
                max_len: 0,
                epoch_steps: None,
            },
        }
    }
}
