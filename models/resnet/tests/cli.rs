//! The `resnet` binary end to end: ResNet-20 on a small CIFAR-10 slice, and on MNIST.

use trainer::testing::{Binary, cifar_available, report};

const RESNET: Binary = Binary(env!("CARGO_BIN_EXE_resnet"));

fn smoke(extra: &[&str]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut args = vec![
        "train",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--out",
        out.to_str().unwrap(),
        "--limit-train",
        "512",
        "--limit-valid",
        "128",
        "--limit-test",
        "256",
    ];
    args.extend(extra);
    let stdout = RESNET.ok(&args);
    assert!(stdout.contains("epoch 1/1"), "{stdout}");
    let weights = out.join("model.bpk");
    let r = report(&out);
    let accuracy = r["test"]["accuracy"].as_f64().unwrap();
    let stdout = RESNET.ok(&[
        "eval",
        "--weights",
        weights.to_str().unwrap(),
        "--limit-test",
        "256",
    ]);
    assert!(
        stdout.contains(&format!("accuracy {accuracy:.2}%")),
        "{stdout}"
    );
    accuracy
}

#[test]
fn resnet20_on_cifar10() {
    if cifar_available("ResNet-20 on CIFAR-10") {
        // One epoch on 512 images: above chance, no more is promised.
        assert!(smoke(&["--lr", "0.05", "--warmup-epochs", "0"]) > 12.0);
    }
}

#[test]
fn resnet20_on_mnist_with_one_channel() {
    // 16 steps on 512 digits: clearly above chance (10%), no more is promised.
    assert!(smoke(&["--dataset", "mnist", "--lr", "0.05", "--warmup-epochs", "0"]) > 18.0);
}
