//! The `cnn` binary end to end on small slices: LeNet on MNIST, the seed CNN on CIFAR-10.

use trainer::testing::{Binary, cifar_available, report};

const CNN: Binary = Binary(env!("CARGO_BIN_EXE_cnn"));

fn smoke(dataset: &str, arch: &str, min_accuracy: f64) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    let stdout = CNN.ok(&[
        "train",
        "--dataset",
        dataset,
        "--arch",
        arch,
        "--epochs",
        "1",
        "--out",
        out_s,
        "--limit-train",
        "1500",
        "--limit-valid",
        "300",
        "--limit-test",
        "500",
    ]);
    assert!(stdout.contains("epoch 1/1"), "{stdout}");
    let r = report(&out);
    let accuracy = r["test"]["accuracy"].as_f64().unwrap();
    assert!(
        accuracy > min_accuracy,
        "{arch} on {dataset}: {accuracy}% after 1 epoch on 1,500 images"
    );
    let weights = out.join("model.bpk");
    let stdout = CNN.ok(&[
        "eval",
        "--weights",
        weights.to_str().unwrap(),
        "--limit-test",
        "500",
    ]);
    assert!(
        stdout.contains(&format!("accuracy {accuracy:.2}%")),
        "{stdout}"
    );
    let stdout = CNN.ok(&[
        "predict",
        "--weights",
        weights.to_str().unwrap(),
        "--index",
        "3",
        "--top",
        "5",
    ]);
    assert_eq!(stdout.matches('%').count(), 5, "top-5 classes: {stdout}");
}

#[test]
fn lenet_on_mnist() {
    smoke("mnist", "lenet", 60.0);
}

#[test]
fn seed_cnn_on_cifar10() {
    if cifar_available("the seed CNN on CIFAR-10") {
        smoke("cifar10", "tf-tutorial", 15.0);
    }
}
