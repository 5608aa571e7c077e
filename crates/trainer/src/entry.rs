//! How a model crate presents itself: its card (`zoo.json`: name, task, data, paper, and the
//! commands the registry-wide checks run) and its command line as a function of the arguments,
//! so that the model's own binary, the `zoo` binary and the registry-wide tests all run exactly
//! the same code.

use clap::{Command, CommandFactory, Parser};
use serde::Deserialize;
use std::ffi::OsString;
use std::process::ExitCode;

/// One model of the zoo: its card (what it is, and how the registry-wide checks exercise it)
/// and its command line.
#[derive(Clone, Copy)]
pub struct ModelEntry {
    /// The text of the crate's `zoo.json` ([`ModelCard`]).
    pub card: &'static str,
    /// The command line (for `--help` and checks over every model).
    pub command: fn() -> Command,
    /// Runs the model's command line; `args[0]` is the program name.
    pub run: fn(Vec<OsString>) -> ExitCode,
    /// Loads trained weights as a distillation teacher (image classifiers; `None` otherwise).
    pub teacher: Option<crate::distill::TeacherLoader>,
}

/// Every model the running binary includes, when it registered them ([`register`]): the `zoo`
/// binary does, so that a model can use another as its teacher.
static REGISTRY: std::sync::OnceLock<&'static [ModelEntry]> = std::sync::OnceLock::new();

/// Makes `models` known to features that use one model from another (a distillation teacher
/// of another architecture). Call once, before running a command; later calls are ignored.
pub fn register(models: &'static [ModelEntry]) {
    let _ = REGISTRY.set(models);
}

/// The registered model called `name`, if any.
pub fn registered(name: &str) -> Option<&'static ModelEntry> {
    REGISTRY
        .get()?
        .iter()
        .find(|entry| entry.card().name == name)
}

/// A model's `zoo.json`, beside its `Cargo.toml`: what the registry says of it.
#[derive(Clone, Debug, Deserialize)]
pub struct ModelCard {
    /// The package and binary name (`cargo run -p <name>`).
    pub name: String,
    /// What it learns to do, in a few words.
    pub task: String,
    /// The data sets it trains on (`--dataset` values or defaults).
    pub datasets: Vec<String>,
    /// The paper it follows: authors, year, and an arXiv id or venue.
    pub paper: String,
    pub smoke: Smoke,
}

/// Command lines for the registry-wide checks. `{out}` stands for the run folder and
/// `{export}` for the exported weights.
#[derive(Clone, Debug, Deserialize)]
pub struct Smoke {
    /// A one-epoch training run on a slice of real data (the first word is the training
    /// subcommand); `--out {out}` is appended.
    pub train: Vec<String>,
    /// Describes the model after the run.
    #[serde(default = "info_command")]
    pub info: Vec<String>,
    /// The file, inside the run folder, that holds the final weights.
    #[serde(default = "model_bpk")]
    pub weights: String,
    /// Evaluates the saved weights; it must print the figure `figure` points at.
    pub eval: Option<Vec<String>>,
    /// A JSON pointer into `report.json` (e.g. `/test/loss`) whose value `eval` prints.
    #[serde(default)]
    pub figure: String,
    /// Exports the weights to `{export}`, then evaluates `{export}`: the same figure again.
    pub export: Option<Export>,
    /// Quantizes the run's weights into `{quantized}` (a fresh folder): every model offers
    /// `quantize`. `{root}` is the workspace root (for a classifier fixture, say).
    pub quantize: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Export {
    pub export: Vec<String>,
    pub eval: Vec<String>,
}

fn info_command() -> Vec<String> {
    vec!["info".into()]
}

fn model_bpk() -> String {
    "model.bpk".into()
}

impl ModelEntry {
    /// The binary's `main`: runs the process's own arguments.
    pub fn main(&self) -> ExitCode {
        crate::allocator::keep_freed_memory();
        (self.run)(std::env::args_os().collect())
    }

    /// The model's card. `zoo.json` is compiled in and read by the registry tests, so a card
    /// that does not parse fails them; here it is an invariant.
    pub fn card(&self) -> ModelCard {
        serde_json::from_str(self.card).expect("a model's zoo.json is a ModelCard")
    }

    /// The crate's folder in the workspace.
    pub fn crate_dir(&self) -> String {
        format!("models/{}", self.card().name)
    }

    /// An image classifier trained by the Learner ([`crate::run`]): `train`, `eval`,
    /// `predict`, `export`, `info`.
    pub const fn image_classifier<M: crate::ImageClassifier>(card: &'static str) -> Self {
        Self {
            card,
            command: crate::command::<M>,
            run: crate::run::<M>,
            teacher: Some(crate::distill::load_teacher::<M>),
        }
    }
}

/// Parses `args` with `command` (a model's CLI renamed to the model) and hands the result to
/// `run`. `--help`, `--version` and usage errors print as clap prints them and return clap's
/// status (0, or 2); a [`crate::UsageError`] returns 2, any other error 1.
pub fn run_parsed<C: Parser>(
    name: &'static str,
    args: Vec<OsString>,
    run: impl FnOnce(C) -> anyhow::Result<()>,
) -> ExitCode {
    let parsed = C::command()
        .name(name)
        .bin_name(name)
        .try_get_matches_from(args)
        .and_then(|m| C::from_arg_matches(&m));
    match parsed {
        Ok(cli) => crate::exit_code(run(cli)),
        Err(e) => {
            let _ = e.print();
            ExitCode::from(e.exit_code().clamp(0, 255) as u8)
        }
    }
}

/// `command()` renamed to the model, as [`run_parsed`] parses it.
pub fn named_command<C: CommandFactory>(name: &'static str) -> Command {
    C::command().name(name).bin_name(name)
}
