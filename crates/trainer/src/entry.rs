//! How a model crate presents itself: its registry entry (name, task, data, paper) and its
//! command line as a function of the arguments, so that the model's own binary, the `zoo`
//! binary and the registry-wide tests all run exactly the same code.

use clap::{Command, CommandFactory, Parser};
use std::ffi::OsString;
use std::process::ExitCode;

/// One model of the zoo.
#[derive(Clone, Copy)]
pub struct ModelEntry {
    pub about: About,
    /// The command line (for `--help` and checks over every model).
    pub command: fn() -> Command,
    /// Runs the model's command line; `args[0]` is the program name.
    pub run: fn(Vec<OsString>) -> ExitCode,
    /// How the registry-wide tests exercise the model on a tiny slice of real data.
    pub smoke: Smoke,
}

/// Command lines for the registry-wide checks. `{out}` stands for the run folder and
/// `{export}` for the exported weights.
#[derive(Clone, Copy)]
pub struct Smoke {
    /// A one-epoch training run (the first word is the training subcommand); `--out {out}` is
    /// appended.
    pub train: &'static [&'static str],
    /// Describes the model (`info`), after the run.
    pub info: &'static [&'static str],
    /// The file, inside the run folder, that holds the final weights.
    pub weights: &'static str,
    /// Evaluates the saved weights; it must print the figure `figure` points at.
    pub eval: Option<&'static [&'static str]>,
    /// A JSON pointer into `report.json` (e.g. `/test/loss`) whose value `eval` prints.
    pub figure: &'static str,
    /// Exports the weights to `{export}`, then evaluates `{export}`: the same figure again.
    pub export: Option<(&'static [&'static str], &'static [&'static str])>,
}

/// What the registry says of a model, besides its commands.
#[derive(Clone, Copy)]
pub struct About {
    /// The package and binary name (`cargo run -p <name>`).
    pub name: &'static str,
    /// What it learns to do, in a few words.
    pub task: &'static str,
    /// The data sets it trains on (`--dataset` values or defaults).
    pub datasets: &'static [&'static str],
    /// The paper it follows: authors, year, and an arXiv id or venue.
    pub paper: &'static str,
}

impl ModelEntry {
    /// The binary's `main`: runs the process's own arguments.
    pub fn main(&self) -> ExitCode {
        (self.run)(std::env::args_os().collect())
    }

    /// The crate's folder in the workspace.
    pub fn crate_dir(&self) -> String {
        format!("models/{}", self.about.name)
    }

    /// An image classifier trained by the Learner ([`crate::run`]): `train`, `eval`,
    /// `predict`, `export`, `info`. `train` is its one-epoch run on a slice of MNIST, which
    /// must pass `--limit-test 32` (what the reload checks evaluate on).
    pub const fn image_classifier<M: crate::ImageClassifier>(
        about: About,
        train: &'static [&'static str],
    ) -> Self {
        Self {
            about,
            command: crate::command::<M>,
            run: crate::run::<M>,
            smoke: Smoke {
                train,
                info: &["info"],
                weights: "model.bpk",
                eval: Some(&["eval", "--weights", "{out}/model.bpk", "--limit-test", "32"]),
                figure: "/test/loss",
                export: Some((
                    &[
                        "export",
                        "--weights",
                        "{out}/model.bpk",
                        "--output",
                        "{export}",
                    ],
                    &[
                        "eval",
                        "--weights",
                        "{export}",
                        "--config",
                        "{out}/config.json",
                        "--limit-test",
                        "32",
                    ],
                )),
            },
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
