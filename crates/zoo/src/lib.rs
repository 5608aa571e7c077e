//! burn-zoo's registry: every model of the zoo in one table, and the `zoo` command that runs
//! any of them.
//!
//! ```text
//! zoo list                     every model: task, data sets, paper, crate
//! zoo info <model>             the registry entry and the model's own `info`
//! zoo weights                  the pretrained weights `--weights pretrained:NAME` can name
//! zoo serve                    host this machine's devices for `--device ws://HOST:PORT` (feature `remote`)
//! zoo <model> <command> ...    exactly what `cargo run -p <model> -- <command> ...` runs
//! ```
//!
//! A new model crate writes its card (`zoo.json`: name, task, data, paper, and a one-epoch run
//! on real data), defines its `ENTRY` (a [`ModelEntry`]) and is added to [`MODELS`]; the
//! registry-wide tests in the workspace's `tests/` package then check it like every other.

pub use trainer::entry::ModelEntry;

use std::ffi::OsString;
use std::process::ExitCode;

/// Every model of the zoo, in the order the README lists them.
pub const MODELS: &[ModelEntry] = &[
    mlp::ENTRY,
    cnn::ENTRY,
    resnet::ENTRY,
    lstm::ENTRY,
    gru::ENTRY,
    autoencoder::ENTRY,
    vae::ENTRY,
    gan::ENTRY,
    bert_mini::ENTRY,
    gnn::ENTRY,
    dqn::ENTRY,
];

/// The model called `name`.
pub fn find(name: &str) -> Option<&'static ModelEntry> {
    MODELS.iter().find(|m| m.card().name == name)
}

fn names() -> String {
    MODELS
        .iter()
        .map(|m| m.card().name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `zoo list`: one block per model.
pub fn list() -> String {
    let mut text = String::new();
    for m in MODELS {
        let card = m.card();
        text.push_str(&format!(
            "{:<12} {}\n{:<12} data: {}\n{:<12} paper: {}\n{:<12} crate: {} (cargo run -p {} -- --help)\n",
            card.name,
            card.task,
            "",
            card.datasets.join(", "),
            "",
            card.paper,
            "",
            m.crate_dir(),
            card.name
        ));
    }
    text
}

const USAGE: &str = "usage: zoo list | zoo info <model> | zoo weights | zoo serve [--listen HOST:PORT] \
     | zoo <model> <command> [flags...]";

/// `zoo serve`: this machine's devices for `--device ws://HOST:PORT` clients.
#[cfg(feature = "remote")]
fn serve(args: Vec<OsString>) -> ExitCode {
    trainer::entry::run_parsed("zoo serve", args, trainer::serve::serve)
}

#[cfg(not(feature = "remote"))]
fn serve(_: Vec<OsString>) -> ExitCode {
    eprintln!(
        "error: zoo serve needs Burn's remote backend: build with `--features remote`, e.g. \
         `cargo run -p zoo --release --features remote -- serve`"
    );
    ExitCode::from(2)
}

/// Runs `zoo` with `args` (`args[0]` is the program name).
pub fn run(args: Vec<OsString>) -> ExitCode {
    // A model may use another of the zoo (a distillation teacher of another architecture).
    trainer::entry::register(MODELS);
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match words.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            println!(
                "burn-zoo: classic deep-learning models on Burn\n\n{USAGE}\n\nmodels: {}",
                names()
            );
            if words.is_empty() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Some("list") => {
            print!("{}", list());
            ExitCode::SUCCESS
        }
        Some("serve") => serve(args.into_iter().skip(1).collect()),
        Some("weights") => {
            print!("{}", trainer::pretrained::list());
            ExitCode::SUCCESS
        }
        Some("info") => {
            let Some(model) = words.get(1).and_then(|n| find(n)) else {
                eprintln!("error: zoo info <model>: one of {}", names());
                return ExitCode::from(2);
            };
            let card = model.card();
            println!(
                "{}: {}\ndata: {}\npaper: {}\ncrate: {}\n",
                card.name,
                card.task,
                card.datasets.join(", "),
                card.paper,
                model.crate_dir()
            );
            let mut rest: Vec<OsString> = vec![card.name.into(), "info".into()];
            rest.extend(args.into_iter().skip(3));
            (model.run)(rest)
        }
        Some(name) => match find(name) {
            Some(model) => (model.run)(args.into_iter().skip(1).collect()),
            None => {
                eprintln!(
                    "error: no model called '{name}'; the zoo has {}\n{USAGE}",
                    names()
                );
                ExitCode::from(2)
            }
        },
    }
}
