//! The command line of a recurrent model (`lstm`, `gru`): its subcommands, the dispatch to
//! the character language model ([`crate::lm`]) and the classifiers ([`crate::classify`]), and
//! the model's registry entry.

use crate::cell::Cell;
use crate::config::Task;
use crate::config::TextArgs;
use crate::task::{
    GenerateArgs, InfoArgs, SavedArgs, SequenceReport, TrainArgs, export, info, load_saved,
};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Recurrent networks: character language model, text classification, the compare-halves sequence task"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// One command is parsed per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train on a task (char-lm by default), keep the best epoch on validation, report test.
    Train(TrainArgs),
    /// Loss and accuracy of saved weights on the task's held-out data; for a classifier, also
    /// the confusion matrix and the ROC/PR curves.
    Eval {
        #[command(flatten)]
        saved: SavedArgs,
        #[command(flatten)]
        outputs: trainer::cli::EvalOutputArgs,
    },
    /// Sample text from a trained character language model.
    Generate(GenerateArgs),
    /// Classify texts with a trained classifier.
    Predict {
        #[command(flatten)]
        saved: SavedArgs,
        /// A text to classify (repeat the flag for more)
        #[arg(long, required = true)]
        text: Vec<String>,
    },
    /// Write weights as safetensors with PyTorch's names (`rnn.weight_ih_l0`, ...).
    Export {
        #[command(flatten)]
        saved: SavedArgs,
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Quantize saved weights to 8 bits; file size, the task's test figure and evaluation time
    /// before and after.
    Quantize {
        #[command(flatten)]
        saved: SavedArgs,
        #[command(flatten)]
        quantize: trainer::cli::QuantizeFlags,
    },
    /// The network a task builds: layers, shapes, parameters.
    Info(InfoArgs),
}

/// Runs the command line of the model of cell `C` (`args[0]` is the program name).
pub fn cli<C: Cell>(args: Vec<std::ffi::OsString>) -> std::process::ExitCode {
    trainer::entry::run_parsed::<Cli>(C::NAME, args, run::<C>)
}

/// The command line of the model of cell `C`, as [`cli`] parses it.
pub fn command<C: Cell>() -> clap::Command {
    trainer::entry::named_command::<Cli>(C::NAME)
}

/// Runs one parsed command.
pub fn run<C: Cell>(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) if args.run.folds.is_some() => {
            crate::folds::train_folds::<C>(args).map(|_| ())
        }
        Command::Train(args) => train::<C>(args).map(|_| ()),
        Command::Eval { saved, outputs } => eval::<C>(&saved, &outputs).map(|_| ()),
        Command::Generate(args) => {
            let text = crate::lm::generate::<C>(&args)?;
            println!("{text}");
            Ok(())
        }
        Command::Predict { saved, text } => crate::classify::predict::<C>(&saved, &text),
        Command::Export { saved, output } => export::<C>(&saved, &output),
        Command::Quantize { saved, quantize } => quantize_weights::<C>(&saved, &quantize),
        Command::Info(args) => info::<C>(&args),
    }
}

/// Trains as the flags say; returns the report it also writes.
pub fn train<C: Cell>(args: TrainArgs) -> anyhow::Result<SequenceReport> {
    match args.task {
        Task::CharLm => crate::lm::train::<C>(args),
        Task::Classify | Task::CompareHalves => crate::classify::train::<C>(args),
    }
}

/// `eval`: the task's held-out metrics for saved weights.
/// `quantize`: 8-bit weights; test accuracy (a classifier) or loss (the language model), and
/// the evaluation's time, before and after.
pub fn quantize_weights<C: Cell>(
    saved: &SavedArgs,
    flags: &trainer::cli::QuantizeFlags,
) -> anyhow::Result<()> {
    trainer::quantize::check_out(&flags.out)?;
    let (model, config, device_name, device) = load_saved::<C>(saved)?;
    let data = TextArgs {
        data_dir: saved.data_dir.clone().or(config.data.data_dir.clone()),
        ..config.data.clone()
    };
    let score = |m: &crate::SequenceModel| -> anyhow::Result<f64> {
        Ok(match config.task {
            Task::CharLm => crate::lm::evaluate_saved::<C>(m, &config, &data, &device)?.loss,
            Task::Classify | Task::CompareHalves => {
                crate::classify::evaluate_saved::<C>(m, &config, &data, &device)?
                    .metrics
                    .accuracy
            }
        })
    };
    let reload = |path: &std::path::Path| crate::task::load_file::<C>(&config, path, &device);
    let metric = match config.task {
        Task::CharLm => "test loss (nats/char)",
        _ => "test accuracy (%)",
    };
    trainer::quantize::quantize_and_report(
        C::NAME,
        model,
        flags,
        &device_name,
        trainer::quantize::Judge {
            metric,
            score: &score,
            forward: None,
            workload: "one evaluation of the test data",
            reload: &reload,
        },
    )
}

pub fn eval<C: Cell>(
    saved: &SavedArgs,
    outputs: &trainer::cli::EvalOutputArgs,
) -> anyhow::Result<trainer::TestMetrics> {
    let (model, config, _, device) = load_saved::<C>(saved)?;
    let data = TextArgs {
        data_dir: saved.data_dir.clone().or(config.data.data_dir.clone()),
        ..config.data.clone()
    };
    let (metrics, areas, written) = match config.task {
        Task::CharLm => {
            let metrics = crate::lm::evaluate_saved::<C>(&model, &config, &data, &device)?;
            (metrics, String::new(), None)
        }
        Task::Classify | Task::CompareHalves => {
            let evaluation = crate::classify::evaluate_saved::<C>(&model, &config, &data, &device)?;
            let dir = outputs.dir(&saved.weights.weights);
            evaluation.write(&dir)?;
            (
                evaluation.metrics.clone(),
                evaluation.areas_note(),
                Some(dir),
            )
        }
    };
    println!(
        "{} {}: loss {:.4}  accuracy {:.2}%  macro F1 {:.2}%{areas}  ({} {})",
        C::NAME,
        config.task.name(),
        metrics.loss,
        metrics.accuracy,
        metrics.f1_macro,
        metrics.samples,
        if config.task == Task::CharLm {
            "characters"
        } else {
            "sequences"
        }
    );
    if let Some(dir) = written {
        println!(
            "wrote {} (confusion matrix, ROC and PR curves)",
            dir.display()
        );
    }
    Ok(metrics)
}

/// The registry entry of the model with cell `C`, described by `card` (its `zoo.json`).
pub const fn entry<C: Cell>(card: &'static str) -> trainer::entry::ModelEntry {
    trainer::entry::ModelEntry {
        card,
        command: command::<C>,
        run: cli::<C>,
        teacher: None,
    }
}
