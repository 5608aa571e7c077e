//! The command line: `pretrain` (masked LM, optional NSP), `finetune --task classify`,
//! `predict`, `fill-mask`, `attend`, `export`, `info`. Training runs on the trainer's run
//! driver (metrics.csv, one line per epoch, checkpoints, `--resume`, curves,
//! report.json). A run folder is also a Hugging Face model folder: `config.json` is HF's
//! `BertConfig`, beside `tokenizer.json`, `vocab.txt` and `model.bpk` (`export` adds
//! `model.safetensors`).

use crate::args::DataArgs;
use crate::args::{FinetuneArgs, ModelArgs, PretrainArgs};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
        #[command(flatten)]
        outputs: trainer::cli::EvalOutputArgs,
    },
    /// Quantize a model folder's weights to 8 bits into a new folder; file size, test (or
    /// held-out masked-LM) accuracy and evaluation time before and after.
    Quantize {
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
        #[command(flatten)]
        quantize: trainer::cli::QuantizeFlags,
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

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pretrain(args) => crate::pretrain::pretrain(args).map(|_| ()),
        Command::Finetune(args) if args.run.folds.is_some() => {
            crate::finetune::finetune_folds(args).map(|_| ())
        }
        Command::Finetune(args) => crate::finetune::finetune(args).map(|_| ()),
        Command::Eval {
            model,
            data,
            max_len,
            batch_size,
            limit_test,
            outputs,
        } => crate::inference::eval(&model, &data, max_len, batch_size, limit_test, &outputs),
        Command::Quantize {
            model,
            data,
            max_len,
            batch_size,
            limit_test,
            quantize,
        } => crate::compress::quantize(&model, &data, max_len, batch_size, limit_test, &quantize),
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

/// `bert-mini` in the zoo's registry: its card (`zoo.json`) and its command line.
pub const ENTRY: trainer::entry::ModelEntry = trainer::entry::ModelEntry {
    card: include_str!("../zoo.json"),
    command: || trainer::entry::named_command::<Cli>("bert-mini"),
    run: |args| trainer::entry::run_parsed::<Cli>("bert-mini", args, run),
    teacher: None,
};
