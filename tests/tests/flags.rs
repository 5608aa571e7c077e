//! The common flags mean the same thing in every model, and the run driver catches what a new
//! user runs into: a flag a model cannot honour is refused with status 2, a diverging run stops
//! where it diverged without writing NaN weights, and `--early-stop` stops every loop.

use std::path::Path;
use trainer::testing::{Binary, report};

const ZOO: Binary = Binary(env!("CARGO_BIN_EXE_zoo-under-test"));

/// Runs `zoo <args>` and returns (status, stderr).
fn status(args: &[&str]) -> (Option<i32>, String) {
    let output = ZOO.run(args);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn flags_a_model_cannot_honour_are_refused_with_status_2() {
    let (code, err) = status(&["mlp", "train", "--optimizer", "adam", "--momentum", "0.9"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--momentum") && err.contains("adam"), "{err}");
    let (code, err) = status(&["mlp", "train", "--optimizer", "adamw", "--nesterov", "true"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = status(&["gnn", "train", "--grad-clip", "1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--grad-clip"), "{err}");
    let (code, err) = status(&["vae", "train", "--weight-decay", "0.1"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = status(&["gan", "train", "--early-stop", "2"]);
    assert_eq!(code, Some(2), "{err}");
    for (args, flag) in [
        (&["gnn", "train", "--batch-size", "32"][..], "--batch-size"),
        (
            &["gnn", "train", "--optimizer", "sgd"][..],
            "--optimizer sgd",
        ),
        (&["lstm", "train", "--schedule", "cosine"][..], "--schedule"),
        (
            &["lstm", "train", "--limit-train", "10"][..],
            "--limit-train",
        ),
        (
            &["autoencoder", "train", "--warmup-epochs", "1"][..],
            "--warmup-epochs",
        ),
        (
            &["bert-mini", "pretrain", "--limit-test", "5"][..],
            "--limit-test",
        ),
        (
            &["bert-mini", "finetune", "--momentum", "0.9"][..],
            "--momentum",
        ),
        (
            &["mlp", "train", "--checkpoint-every", "2"][..],
            "--checkpoint-every",
        ),
        (&["mlp", "train", "--l1", "-0.1"][..], "--l1 -0.1"),
        (&["gnn", "train", "--l1", "1e-4"][..], "--l1"),
        (&["lstm", "train", "--l1", "1e-4"][..], "--l1"),
        (&["gan", "train", "--l1", "1e-4"][..], "--l1"),
        (&["bert-mini", "finetune", "--l1", "1e-4"][..], "--l1"),
        (&["lstm", "train", "--folds", "3"][..], "--folds"),
        (&["vae", "train", "--folds", "3"][..], "--folds"),
    ] {
        let (code, err) = status(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
    }
    // clap's own usage errors keep their status too.
    let (code, _) = status(&["mlp", "train", "--no-such-flag"]);
    assert_eq!(code, Some(2));
}

#[test]
fn grad_clip_is_one_flag_everywhere_and_clip_stays_an_alias() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, out) in [("--grad-clip", "a"), ("--clip", "b")] {
        let out = dir.path().join(out);
        let card = zoo::find("lstm").unwrap().card();
        let mut args = vec!["lstm"];
        args.extend(card.smoke.train.iter().map(String::as_str));
        args.extend([flag, "1", "--out", path(&out)]);
        ZOO.ok(&args);
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config["settings"]["clip"], 1.0, "{flag}: {config}");
    }
}

/// The Learner path (mlp) and a driver loop (gnn) both stop on a non-finite loss: status 1, a
/// message naming the epoch and what to change, and no final `model.bpk`.
#[test]
fn a_diverging_run_stops_and_writes_no_nan_model() {
    let dir = tempfile::tempdir().unwrap();
    let mlp = dir.path().join("mlp");
    let (code, err) = status(&[
        "mlp",
        "train",
        "--optimizer",
        "sgd",
        "--lr",
        "1e6",
        "--epochs",
        "2",
        "--limit-train",
        "2000",
        "--limit-valid",
        "200",
        "--limit-test",
        "200",
        "--out",
        path(&mlp),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("diverged") && err.contains("epoch 1") && err.contains("--lr"),
        "{err}"
    );
    assert!(!mlp.join("model.bpk").exists() && !mlp.join("report.json").exists());

    let gnn = dir.path().join("gnn");
    let (code, err) = status(&[
        "gnn",
        "train",
        "--lr",
        "1e30",
        "--epochs",
        "5",
        "--out",
        path(&gnn),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("diverged") && err.contains("epoch 1"), "{err}");
    assert!(!gnn.join("model.bpk").exists() && !gnn.join("report.json").exists());
}

/// A one-layer BERT small enough to fine-tune in a second, from scratch.
const TINY_BERT: [&str; 13] = [
    "--from-scratch",
    "--layers",
    "1",
    "--hidden",
    "32",
    "--heads",
    "2",
    "--max-len",
    "32",
    "--batch-size",
    "16",
    "--vocab-size",
    "500",
];

/// `--early-stop` is honoured by a loop that used to ignore it: with a learning rate too small
/// to move the weights, validation cannot improve after epoch 1.
#[test]
fn bert_finetune_stops_early() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ft");
    let mut args = vec![
        "bert-mini",
        "finetune",
        "--epochs",
        "4",
        "--early-stop",
        "1",
        "--lr",
        "1e-12",
    ];
    args.extend(TINY_BERT);
    args.extend([
        "--limit-train",
        "64",
        "--limit-test",
        "32",
        "--log-every",
        "0",
        "--out",
        path(&out),
    ]);
    let stdout = ZOO.ok(&args);
    assert!(stdout.contains("early stop at epoch 2"), "{stdout}");
    assert_eq!(report(&out)["epochs_completed"], 2);
}

/// `bert-mini finetune --folds 2` on a small slice: two fine-tuning runs on the two folds of the
/// (limited) training and validation texts, folds.json with both.
#[test]
fn bert_finetune_cross_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("folds");
    let mut args = vec!["bert-mini", "finetune", "--folds", "2", "--epochs", "1"];
    args.extend(TINY_BERT);
    args.extend([
        "--limit-train",
        "64",
        "--limit-valid",
        "16",
        "--limit-test",
        "32",
        "--log-every",
        "0",
        "--out",
        path(&out),
    ]);
    let stdout = ZOO.ok(&args);
    assert!(stdout.contains("2-fold cross-validation"), "{stdout}");
    let fold = report(&out.join("fold-1"));
    let seen = fold["train_samples"].as_u64().unwrap() + fold["valid_samples"].as_u64().unwrap();
    assert_eq!(seen, 80, "the folds share the 64 + 16 texts");
    assert!(out.join("folds.json").is_file());
}

/// Starts `zoo <args>`, waits until `newest()` (the newest complete checkpoint's epoch) reaches
/// `at_least`, kills the process with SIGKILL mid-training, and returns `newest()` after the kill.
fn kill_after_checkpoint(args: &[&str], at_least: usize, newest: impl Fn() -> usize) -> usize {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zoo-under-test"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while newest() < at_least {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{args:?} finished before checkpoint {at_least}"
        );
        assert!(
            started.elapsed().as_secs() < 300,
            "no checkpoint {at_least} after 5 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The last file of that checkpoint may still be being written: give it a moment, so the
    // kill lands in the training that follows (at most that epoch is then lost).
    std::thread::sleep(std::time::Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    newest()
}

/// `kill -9` mid-run, then `--resume`: the run continues from the newest checkpoint written
/// before the kill (at most the epoch in progress is lost), for the Learner (mlp) and for a
/// driver loop (gnn).
#[test]
fn a_killed_run_resumes_losing_at_most_the_epoch_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mlp = dir.path().join("mlp");
    let args = [
        "mlp",
        "train",
        "--epochs",
        "4",
        "--limit-train",
        "6000",
        "--limit-valid",
        "500",
        "--limit-test",
        "500",
        "--out",
        path(&mlp),
    ];
    // A checkpoint counts once all its files are there (model, optimizer, scheduler): waiting
    // for the model file alone could kill between them and leave no complete one.
    let saved = kill_after_checkpoint(&args, 1, || {
        trainer::checkpoint::checkpoint_epochs(&mlp)
            .first()
            .copied()
            .unwrap_or(0)
    });
    assert!(saved >= 1);
    ZOO.ok(&["mlp", "train", "--resume", "--out", path(&mlp)]);
    let r = report(&mlp);
    // The Learner writes a checkpoint's three files one by one: a kill between them leaves that
    // epoch incomplete, and resume takes the one before (still at most one epoch lost).
    let resumed = r["resumed_from_epoch"].as_u64().unwrap() as usize;
    assert!(
        resumed >= 1 && resumed + 1 >= saved,
        "saved {saved}, resumed {resumed}"
    );
    assert_eq!(r["epochs_completed"], 4);

    let gnn = dir.path().join("gnn");
    let args = [
        "gnn",
        "train",
        "--arch",
        "gat",
        "--epochs",
        "400",
        "--early-stop",
        "400",
        "--out",
        path(&gnn),
    ];
    let newest = || {
        std::fs::read_dir(gnn.join("checkpoint"))
            .map(|entries| {
                entries
                    .filter_map(|e| {
                        e.ok()?
                            .file_name()
                            .to_str()?
                            .strip_prefix("epoch-")?
                            .parse()
                            .ok()
                    })
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    };
    let saved = kill_after_checkpoint(&args, 3, newest);
    assert!((3..400).contains(&saved), "{saved}");
    let stdout = ZOO.ok(&[
        "gnn",
        "train",
        "--resume",
        "--epochs",
        "400",
        "--out",
        path(&gnn),
    ]);
    assert!(stdout.contains(&format!("from epoch {saved}")), "{stdout}");
    let r = report(&gnn);
    assert_eq!(r["resumed_from_epoch"], saved as u64, "{r}");
}

/// `train --folds 3` killed during fold 2 resumes there: fold 1 is kept as it was, fold 2
/// continues from its newest checkpoint, fold 3 runs, and folds.json holds all three.
#[test]
fn k_fold_resumes_at_the_fold_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("folds");
    let args = [
        "mlp",
        "train",
        "--folds",
        "3",
        "--epochs",
        "4",
        "--limit-train",
        "9000",
        "--limit-valid",
        "500",
        "--limit-test",
        "500",
        "--out",
        path(&out),
    ];
    let fold2 = out.join("fold-2");
    let saved = kill_after_checkpoint(&args, 1, || {
        trainer::checkpoint::checkpoint_epochs(&fold2)
            .first()
            .copied()
            .unwrap_or(0)
    });
    let fold1 = std::fs::read_to_string(out.join("fold-1/report.json")).unwrap();
    assert!(
        !fold2.join("report.json").exists(),
        "fold 2 finished before the kill"
    );
    let stdout = ZOO.ok(&[
        "mlp",
        "train",
        "--folds",
        "3",
        "--resume",
        "--out",
        path(&out),
    ]);
    assert!(stdout.contains("fold 1/3: finished earlier"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(out.join("fold-1/report.json")).unwrap(),
        fold1,
        "fold 1 ran again"
    );
    let resumed = report(&fold2)["resumed_from_epoch"].as_u64().unwrap() as usize;
    assert!(
        resumed >= 1 && resumed + 1 >= saved,
        "saved {saved}, resumed {resumed}"
    );
    let folds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("folds.json")).unwrap()).unwrap();
    assert_eq!(folds["folds"].as_array().unwrap().len(), 3);
    let test = &folds["test_accuracy"];
    let each: Vec<f64> = folds["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test_accuracy"].as_f64().unwrap())
        .collect();
    let mean = each.iter().sum::<f64>() / 3.0;
    assert!(
        (test["mean"].as_f64().unwrap() - mean).abs() < 1e-9,
        "{folds}"
    );
    assert!(test["std"].as_f64().unwrap() >= 0.0);
    assert!(out.join("folds.png").is_file());

    // Refusals: one fold, and more folds than the smallest class has images.
    let (code, err) = status(&["mlp", "train", "--folds", "1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--folds 1"), "{err}");
    let (code, err) = status(&["mlp", "train", "--folds", "12", "--limit-train", "60"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--folds 12: class"), "{err}");
}

/// Through `zoo`, which registers every model, a student may learn from a teacher of another
/// architecture: an MLP from a LeNet, each trained one epoch on an MNIST slice.
#[test]
fn an_mlp_distils_from_a_lenet_teacher_through_zoo() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = dir.path().join("lenet");
    let slice = [
        "--epochs",
        "1",
        "--limit-train",
        "1000",
        "--limit-valid",
        "200",
        "--limit-test",
        "500",
    ];
    let mut args = vec!["cnn", "train", "--out", path(&teacher)];
    args.extend(slice);
    ZOO.ok(&args);
    let student = dir.path().join("student");
    let weights = teacher.join("model.bpk");
    let mut args = vec![
        "mlp",
        "train",
        "--out",
        path(&student),
        "--teacher",
        path(&weights),
    ];
    args.extend(slice);
    let stdout = ZOO.ok(&args);
    assert!(stdout.contains("(cnn)"), "{stdout}");
    let accuracy = report(&student)["test"]["accuracy"].as_f64().unwrap();
    assert!(accuracy > 50.0, "{accuracy}%");
}

/// Several `--devices` (and `--grad-accumulation`) train every model whose steps are
/// independent batches; those whose steps are not refuse them by name (status 2), saying why,
/// before writing anything.
#[test]
fn several_devices_are_refused_where_steps_cannot_be_shared_out() {
    let dir = tempfile::tempdir().unwrap();
    for (model, command, flag, value, why) in [
        ("gnn", "train", "--devices", "flex,flex", "full batch"),
        (
            "gan",
            "train",
            "--devices",
            "flex,flex",
            "alternating steps",
        ),
        (
            "dqn",
            "train",
            "--grad-accumulation",
            "2",
            "replay minibatch",
        ),
        ("lstm", "train", "--devices", "flex,flex", "truncated"),
        (
            "bert-mini",
            "pretrain",
            "--grad-accumulation",
            "4",
            "one masked batch",
        ),
    ] {
        let out = dir.path().join(model);
        let (code, err) = status(&[
            model,
            command,
            flag,
            value,
            "--epochs",
            "1",
            "--out",
            path(&out),
        ]);
        assert_eq!(code, Some(2), "{model}: {err}");
        assert!(
            err.contains(&format!("{flag} is not used by")) && err.contains(why),
            "{model}: {err}"
        );
        assert!(
            !out.join("config.json").exists(),
            "{model} wrote {}",
            out.display()
        );
    }
}

/// Without the `remote` feature, `zoo serve` and a `ws://` device say how to get it.
#[cfg(not(feature = "remote"))]
#[test]
fn remote_devices_without_the_remote_feature_name_the_feature() {
    let (code, err) = status(&["serve"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--features remote"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let (code, err) = status(&[
        "mlp",
        "train",
        "--device",
        "ws://127.0.0.1:7878",
        "--out",
        path(&out),
    ]);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("--features remote") && !err.contains("panicked"),
        "{err}"
    );
    assert!(!out.exists());
}
