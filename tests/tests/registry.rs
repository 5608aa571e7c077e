//! Checks every model in the registry (`zoo::MODELS`) the same way, as timm's tests loop over
//! its registered models: its card (`zoo.json`) names its crate; the training command offers
//! the common flags; a one-epoch run on a tiny slice of real data writes its weights,
//! `config.json`, `metrics.csv` and `report.json`; `zoo info` describes it; the saved weights
//! reload and give the figure the run reported; and a model that exports loads its own export
//! back with the same figure. A model gets these checks by being registered.

use std::path::Path;
use trainer::entry::ModelCard;
use trainer::testing::Binary;
use zoo::{MODELS, ModelEntry};

const ZOO: Binary = Binary(env!("CARGO_BIN_EXE_zoo-under-test"));

/// Flags every training command takes, with the same meaning everywhere (defined once, in
/// `trainer::driver::RunFlags`; a model that cannot honour one refuses it with status 2).
const COMMON_FLAGS: &[&str] = &[
    "--epochs",
    "--batch-size",
    "--lr",
    "--optimizer",
    "--momentum",
    "--weight-decay",
    "--l1",
    "--schedule",
    "--warmup-epochs",
    "--grad-clip",
    "--seed",
    "--device",
    "--devices",
    "--data-dir",
    "--out",
    "--resume",
    "--early-stop",
    "--folds",
    "--limit-train",
    "--limit-valid",
    "--limit-test",
];

/// The subcommand `name` (or one with `name` as an alias).
fn subcommand(model: &ModelEntry, name: &str) -> Option<clap::Command> {
    (model.command)().find_subcommand(name).cloned()
}

fn has_flag(command: &clap::Command, flag: &str) -> bool {
    let long = flag.trim_start_matches("--");
    command.get_arguments().any(|a| a.get_long() == Some(long))
}

#[test]
fn the_registry_lists_eleven_models_once_each_with_their_cards() {
    let mut names: Vec<String> = MODELS.iter().map(|m| m.card().name).collect();
    assert_eq!(names.len(), 11, "{names:?}");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 11, "a name is registered twice");
    let listed = ZOO.ok(&["list"]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for m in MODELS {
        let card = m.card();
        assert!(
            listed.contains(&card.name) && listed.contains(&card.paper),
            "{listed}"
        );
        let manifest = std::fs::read_to_string(root.join(m.crate_dir()).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("{}: {e}", m.crate_dir()));
        assert!(
            manifest.contains(&format!("name = \"{}\"", card.name)),
            "{}: zoo.json names a package its Cargo.toml does not",
            card.name
        );
        assert!(!card.task.is_empty() && !card.datasets.is_empty() && !card.paper.is_empty());
    }
    let err = ZOO.failing(&["no-such-model", "train"]);
    assert!(err.contains("mlp") && err.contains("gnn"), "{err}");
}

#[test]
fn every_model_offers_the_common_training_flags() {
    for model in MODELS {
        let card = model.card();
        let train_name = &card.smoke.train[0];
        let train = subcommand(model, train_name)
            .unwrap_or_else(|| panic!("{}: no '{train_name}' subcommand", card.name));
        // A model that learns from an environment (dqn) reads no data set.
        let reads_data = !card.datasets.iter().all(|d| d.ends_with("(environment)"));
        let missing: Vec<&&str> = COMMON_FLAGS
            .iter()
            .filter(|f| (reads_data || **f != "--data-dir") && !has_flag(&train, f))
            .collect();
        assert!(
            missing.is_empty(),
            "{} {train_name}: missing {missing:?}",
            card.name
        );
        for command in ["info", "eval"] {
            assert!(
                subcommand(model, command).is_some(),
                "{}: no {command}",
                card.name
            );
        }
    }
}

/// Every image classifier (a model that can teach) offers the compression commands and
/// distillation: one implementation in the trainer serves them all.
#[test]
fn every_image_classifier_offers_quantize_prune_and_a_teacher() {
    let classifiers: Vec<&ModelEntry> = MODELS.iter().filter(|m| m.teacher.is_some()).collect();
    let names: Vec<String> = classifiers.iter().map(|m| m.card().name).collect();
    assert_eq!(names, ["mlp", "cnn", "resnet"]);
    for model in classifiers {
        let name = model.card().name;
        for (command, flag) in [
            ("quantize", "scheme"),
            ("prune", "sparsity"),
            ("train", "teacher"),
            ("train", "keep-zeros"),
        ] {
            let sub = subcommand(model, command).unwrap_or_else(|| panic!("{name}: no {command}"));
            assert!(has_flag(&sub, flag), "{name} {command}: no --{flag}");
        }
    }
}

/// `args` with `{out}`, `{export}`, `{quantized}` and `{root}` filled in, after the model's
/// name. `{quantized}` is the folder `quantized` beside `{out}`.
fn fill(card: &ModelCard, args: &[String], out: &Path, export: &Path) -> Vec<String> {
    let quantized = out.with_file_name("quantized");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut all = vec![card.name.clone()];
    all.extend(args.iter().map(|a| {
        a.replace("{out}", out.to_str().unwrap())
            .replace("{export}", export.to_str().unwrap())
            .replace("{quantized}", quantized.to_str().unwrap())
            .replace("{root}", root.to_str().unwrap())
    }));
    all
}

/// `quantize` writes an 8-bit copy of the run's weights that is under half their size (a
/// quarter plus the file's metadata, which weighs in the smoke runs' tiny models) and that the
/// command itself loaded back and scored.
fn quantizes(card: &ModelCard, out: &Path, export: &Path) {
    let stdout = run_ok(&fill(card, &card.smoke.quantize, out, export));
    let file = card.smoke.weights.as_str();
    let quantized = out.with_file_name("quantized").join(file);
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let (before, after) = (size(&out.join(file)), size(&quantized));
    assert!(
        after > 0 && after * 2 < before,
        "{}: quantized {} is {after} bytes, the f32 weights {before}:\n{stdout}",
        card.name,
        quantized.display()
    );
    assert!(
        stdout.contains("file: ") && stdout.contains(" → "),
        "{}: quantize printed no before/after report:\n{stdout}",
        card.name
    );
}

fn run_ok(args: &[String]) -> String {
    ZOO.ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `value` as the CLIs print figures: 4 or 2 decimals.
fn prints(stdout: &str, value: f64) -> bool {
    [format!("{value:.4}"), format!("{value:.2}")]
        .iter()
        .any(|text| stdout.contains(text.as_str()))
}

/// One model: a one-epoch run on a tiny slice of real data, then info, quantize, reload and
/// export.
fn train_reload_export(model: &ModelEntry) {
    let card = model.card();
    let smoke = &card.smoke;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let export = dir.path().join("exported.safetensors");
    let mut train = fill(&card, &smoke.train, &out, &export);
    train.extend(["--out".into(), out.to_str().unwrap().into()]);
    run_ok(&train);
    for file in [
        smoke.weights.as_str(),
        "config.json",
        "metrics.csv",
        "report.json",
    ] {
        assert!(
            out.join(file).is_file(),
            "{}: no {file} in {}",
            card.name,
            out.display()
        );
    }
    // `zoo info <model> …` prints the card, then the model's own `info`.
    let mut info = fill(&card, &smoke.info, &out, &export);
    info.insert(0, "info".into());
    info.remove(2);
    let stdout = run_ok(&info);
    assert!(
        stdout.contains(&card.paper) && stdout.contains("parameters"),
        "{}: {stdout}",
        card.name
    );
    quantizes(&card, &out, &export);
    let Some(eval) = &smoke.eval else {
        return;
    };
    // Reload: evaluating the saved weights prints the figure the run reported.
    let report = trainer::testing::report(&out);
    let figure = report
        .pointer(&smoke.figure)
        .and_then(|v| v.as_f64())
        .unwrap_or_else(|| {
            panic!(
                "{}: report.json has no number at {}",
                card.name, smoke.figure
            )
        });
    let stdout = run_ok(&fill(&card, eval, &out, &export));
    assert!(
        prints(&stdout, figure),
        "{}: eval of the reloaded weights does not print the run's {} = {figure}:\n{stdout}",
        card.name,
        smoke.figure
    );
    // Export, and evaluate the export: the same figure.
    if let Some(commands) = &smoke.export {
        run_ok(&fill(&card, &commands.export, &out, &export));
        assert!(export.exists(), "{}: export wrote nothing", card.name);
        let again = run_ok(&fill(&card, &commands.eval, &out, &export));
        assert!(
            prints(&again, figure),
            "{}: the exported weights evaluate to something else than {figure}:\n{again}",
            card.name
        );
    }
}

macro_rules! registry_checks {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                train_reload_export(zoo::find($name).expect("registered"));
            }
        )*

        #[test]
        fn every_registered_model_has_a_training_check() {
            let checked = [$($name),*];
            for m in MODELS {
                let name = m.card().name;
                assert!(
                    checked.contains(&name.as_str()),
                    "{name} is registered but has no line in registry_checks!"
                );
            }
        }
    };
}

registry_checks! {
    mlp_trains_reloads_and_exports => "mlp",
    cnn_trains_reloads_and_exports => "cnn",
    resnet_trains_reloads_and_exports => "resnet",
    lstm_trains_reloads_and_exports => "lstm",
    gru_trains_reloads_and_exports => "gru",
    autoencoder_trains_reloads_and_exports => "autoencoder",
    vae_trains_reloads_and_exports => "vae",
    gan_trains_reloads_and_exports => "gan",
    bert_mini_trains_reloads_and_exports => "bert-mini",
    gnn_trains_reloads_and_exports => "gnn",
    dqn_trains_reloads_and_exports => "dqn",
}
