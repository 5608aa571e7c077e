//! The `gnn` binary end to end: karate and a short Cora run, every output file, resume,
//! reproducibility, eval/embed/export/info, and clear errors for bad input.

use std::path::Path;
use trainer::testing::{Binary, csv_values, report};

const GNN: Binary = Binary(env!("CARGO_BIN_EXE_gnn"));

fn train(out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["train", "--out", out.to_str().unwrap()];
    args.extend(extra);
    GNN.ok(&args)
}

#[test]
fn karate_from_two_labelled_leaders_and_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let stdout = train(&a, &["--dataset", "karate", "--epochs", "100"]);
    assert!(stdout.contains("2 train / 0 valid / 32 test"), "{stdout}");
    let r = report(&a);
    // Kipf & Welling's demo separates the factions from the two leaders alone; at most two
    // of the 32 members may land on the wrong side.
    assert!(r["test"]["accuracy"].as_f64().unwrap() >= 93.0, "{r}");
    assert_eq!(
        r["best_epoch"], 100,
        "no validation nodes: the last epoch is kept"
    );
    train(&b, &["--dataset", "karate", "--epochs", "100"]);
    assert_eq!(
        csv_values(&a, "train", "loss"),
        csv_values(&b, "train", "loss"),
        "same seed, same run"
    );
}

#[test]
fn cora_gcn_trains_resumes_and_its_weights_serve_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let stdout = train(&out, &["--epochs", "30", "--checkpoint-every", "10"]);
    assert!(
        stdout.contains("140 train / 500 valid / 1000 test"),
        "{stdout}"
    );
    for file in [
        "config.json",
        "metrics.csv",
        "model.bpk",
        "report.json",
        "loss.png",
        "accuracy.png",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert!(out.join("checkpoint/epoch-30/optim.bpk").is_file());
    assert!(out.join("checkpoint/epoch-20/best.bpk").is_file());
    assert!(
        !out.join("checkpoint/epoch-10").exists(),
        "only the newest two are kept"
    );

    // A fresh run into the same folder is refused; --resume extends it.
    let err = GNN.failing(&["train", "--out", out.to_str().unwrap()]);
    assert!(err.contains("--resume"), "{err}");
    let stdout = GNN.ok(&[
        "train",
        "--out",
        out.to_str().unwrap(),
        "--resume",
        "--epochs",
        "40",
    ]);
    assert!(
        stdout.contains("resuming") && stdout.contains("epoch 40/40"),
        "{stdout}"
    );
    let r = report(&out);
    assert_eq!(r["resumed_from_epoch"], 30);
    assert_eq!(r["epochs_completed"], 40);
    let epochs: Vec<usize> = csv_values(&out, "valid", "accuracy")
        .iter()
        .map(|v| v.0)
        .collect();
    assert_eq!(
        epochs,
        (1..=40).collect::<Vec<_>>(),
        "history continues without gaps"
    );
    let test_accuracy = r["test"]["accuracy"].as_f64().unwrap();
    assert!(
        test_accuracy > 60.0,
        "40 epochs of GCN on Cora: {test_accuracy}"
    );

    // eval on the saved weights reproduces the report.
    let weights = out.join("model.bpk");
    let weights = weights.to_str().unwrap();
    let stdout = GNN.ok(&["eval", "--weights", weights]);
    assert!(
        stdout.contains(&format!("accuracy {test_accuracy:.2}%")),
        "{stdout} vs {r}"
    );
    // Cora's 7 topics: one curve each, the mean area printed and in the report.
    let auc = r["test"]["roc_auc"].as_f64().unwrap();
    assert!(
        stdout.contains(&format!("ROC AUC {auc:.4} (macro one-vs-rest)")),
        "{stdout}"
    );
    assert!(out.join("eval/confusion.png").is_file());

    // predict: the top classes of nodes by their Cora paper id, with the true label.
    let stdout = GNN.ok(&["predict", "--weights", weights, "--node", "1110563,446271"]);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout.starts_with("node 1110563 (label ") && stdout.contains('%'),
        "{stdout}"
    );
    let err = GNN.failing(&["predict", "--weights", weights, "--node", "no-such-paper"]);
    assert!(
        err.contains("no-such-paper") && err.contains("--node"),
        "{err}"
    );

    let stdout = GNN.ok(&["embed", "--weights", weights]);
    assert!(stdout.contains("2708 nodes x 16"), "{stdout}");
    let csv = std::fs::read_to_string(out.join("embeddings.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2709);
    assert!(csv.starts_with("node_id,label,split,e0,"));
    assert!(std::fs::metadata(out.join("embeddings.png")).unwrap().len() > 10_000);

    let exported = dir.path().join("pyg.safetensors");
    GNN.ok(&[
        "export",
        "--weights",
        weights,
        "--output",
        exported.to_str().unwrap(),
    ]);
    let stdout = GNN.ok(&[
        "eval",
        "--weights",
        exported.to_str().unwrap(),
        "--config",
        out.join("config.json").to_str().unwrap(),
    ]);
    assert!(
        stdout.contains(&format!("accuracy {test_accuracy:.2}%")),
        "{stdout}"
    );

    // A corrupt newest checkpoint is skipped on resume.
    std::fs::write(out.join("checkpoint/epoch-40/model.bpk"), b"not a model").unwrap();
    let stdout = GNN.ok(&[
        "train",
        "--out",
        out.to_str().unwrap(),
        "--resume",
        "--epochs",
        "41",
    ]);
    assert!(
        stdout.contains("resuming") && stdout.contains("from epoch 30"),
        "{stdout}"
    );
}

#[test]
fn sage_and_gat_train_a_few_epochs() {
    let dir = tempfile::tempdir().unwrap();
    for arch in ["sage", "gat"] {
        let out = dir.path().join(arch);
        train(&out, &["--arch", arch, "--epochs", "5"]);
        let r = report(&out);
        assert_eq!(r["arch"], arch);
        let losses = csv_values(&out, "train", "loss");
        assert!(losses[4].1 < losses[0].1, "{arch}: loss falls: {losses:?}");
    }
    let stdout = GNN.ok(&["info", "--arch", "gat"]);
    assert!(
        stdout.contains("2708 nodes") && stdout.contains("parameters: 92373"),
        "{stdout}"
    );
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let labels = path("g.labels", "a x\nb y\nc x\nd y\n");
    let edges = path("g.edges", "a b\nb q\n");
    let err = GNN.failing(&["train", "--edges", &edges, "--labels", &labels]);
    assert!(err.contains("g.edges") && err.contains("'q'"), "{err}");
    let edges = path("good.edges", "a b\nb c\nc d\n");
    let split = path("g.split", "a train\nc train\nb test\n");
    let err = GNN.failing(&[
        "train", "--edges", &edges, "--labels", &labels, "--split", &split,
    ]);
    assert!(err.contains("no node of class y"), "{err}");

    let out = dir.path().join("none");
    let err = GNN.failing(&["train", "--out", out.to_str().unwrap(), "--resume"]);
    assert!(err.contains("config.json"), "{err}");
    let err = GNN.failing(&["train", "--device", "tpu"]);
    assert!(err.contains("tpu"), "{err}");
    let weights = path("w.bpk", "junk");
    let err = GNN.failing(&["eval", "--weights", &weights]);
    assert!(err.contains("w.bpk"), "{err}");

    // A user's own graph trains end to end.
    let out = dir.path().join("own");
    let stdout = GNN.ok(&[
        "train",
        "--edges",
        &edges,
        "--labels",
        &labels,
        "--epochs",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("4 nodes, 3 edges"), "{stdout}");
    assert!(stdout.contains("2 train / 1 valid / 1 test"), "{stdout}");
}

/// `train --folds 3`: three GCN runs on stratified folds of Cora's 640 labelled training and
/// validation nodes, the test nodes kept; folds.json with the mean ± std. Too many folds for a
/// class is refused with status 2.
#[test]
fn k_fold_cross_validation_over_the_labelled_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("folds");
    let stdout = GNN.ok(&[
        "train",
        "--folds",
        "3",
        "--epochs",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("3-fold cross-validation: validation accuracy"),
        "{stdout}"
    );
    // Each fold validates on a third of the 640 labelled nodes and trains on the rest.
    let fold1 = trainer::testing::report(&out.join("fold-1"));
    assert_eq!(
        fold1["train_samples"].as_u64().unwrap() + fold1["valid_samples"].as_u64().unwrap(),
        640
    );
    let folds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("folds.json")).unwrap()).unwrap();
    let each = folds["folds"].as_array().unwrap();
    assert_eq!(each.len(), 3);
    for f in each {
        let valid = f["final_valid_accuracy"].as_f64().unwrap();
        assert!(valid > 70.0, "100 epochs of GCN: {f}");
    }
    let err = GNN.failing(&[
        "train",
        "--folds",
        "500",
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert!(
        err.contains("--folds 500") && err.contains("class"),
        "{err}"
    );
}
