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
        let mut args = vec!["lstm"];
        args.extend(sequence::SMOKE_TRAIN);
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

/// `--early-stop` is honoured by a loop that used to ignore it: with a learning rate too small
/// to move the weights, validation cannot improve after epoch 1.
#[test]
fn bert_finetune_stops_early() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ft");
    let stdout = ZOO.ok(&[
        "bert-mini",
        "finetune",
        "--from-scratch",
        "--epochs",
        "4",
        "--early-stop",
        "1",
        "--lr",
        "1e-12",
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
        "--limit-train",
        "64",
        "--limit-test",
        "32",
        "--log-every",
        "0",
        "--out",
        path(&out),
    ]);
    assert!(stdout.contains("early stop at epoch 2"), "{stdout}");
    assert_eq!(report(&out)["epochs_completed"], 2);
}
