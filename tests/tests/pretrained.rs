//! The weights registry across the zoo: `zoo weights` lists every entry, and every checkpoint
//! burn-zoo ships (`weights/`) loads by name through its model's `eval` and gives the test
//! accuracy its report recorded.

use std::path::Path;
use trainer::testing::{Binary, cifar_available};

const ZOO: Binary = Binary(env!("CARGO_BIN_EXE_zoo-under-test"));

#[test]
fn shipped_checkpoints_load_by_name_with_their_reported_accuracy() {
    let listed = ZOO.ok(&["weights"]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = Vec::new();
    for entry in trainer::pretrained::entries() {
        assert!(
            listed.contains(&format!("{} ", entry.name)) && listed.contains(&entry.licence),
            "{}: {listed}",
            entry.name
        );
        let Some(path) = &entry.path else { continue };
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(path).with_file_name("report.json")).unwrap(),
        )
        .unwrap();
        if entry.dataset == "cifar10" && !cifar_available(&entry.name) {
            continue;
        }
        let out = tempfile::tempdir().unwrap();
        let name = format!("pretrained:{}", entry.name);
        let mut args = vec![entry.model.as_str(), "eval", "--weights", name.as_str()];
        if entry.model != "vae" {
            args.extend(["--out", out.path().to_str().unwrap()]);
        } else {
            args.extend(["--limit-test", "200"]);
        }
        let stdout = ZOO.ok(&args);
        if let Some(accuracy) = report["test"]["accuracy"].as_f64() {
            let expected = format!("accuracy {accuracy:.2}%");
            assert!(
                stdout.contains(&expected),
                "{}: {expected}?\n{stdout}",
                entry.name
            );
        }
        checked.push(entry.name);
    }
    assert!(
        checked.iter().any(|n| n == "mlp-mnist"),
        "the MNIST checkpoints ship with burn-zoo: {checked:?}"
    );
}

/// A shipped checkpoint teaches another architecture by name: LeNet distilled into an MLP.
#[test]
fn a_pretrained_name_is_a_distillation_teacher() {
    let out = tempfile::tempdir().unwrap();
    let run = out.path().join("student");
    let stdout = ZOO.ok(&[
        "mlp",
        "train",
        "--teacher",
        "pretrained:lenet-mnist",
        "--epochs",
        "1",
        "--limit-train",
        "256",
        "--limit-valid",
        "64",
        "--limit-test",
        "64",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("distilling from pretrained:lenet-mnist (cnn)"),
        "{stdout}"
    );
    assert!(run.join("model.bpk").is_file());
}
