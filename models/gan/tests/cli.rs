//! The `gan` binary end to end on a slice of MNIST: train with FID (judged by a LeNet trained
//! in PyTorch, a committed cnn fixture), resume, seeded sampling, the real-data FID floor, and
//! clean errors.

use trainer::testing::{Binary, report};

const BIN: Binary = Binary(env!("CARGO_BIN_EXE_gan"));

fn classifier() -> String {
    format!(
        "{}/../cnn/tests/fixtures/lenet_mnist_trained.safetensors",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn dcgan_trains_with_fid_resumes_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    let classifier = classifier();
    let common = [
        "--limit-train",
        "512",
        "--limit-test",
        "300",
        "--batch-size",
        "64",
        "--width",
        "8",
        "--classifier",
        &classifier,
        "--fid-samples",
        "300",
        "--fid-at",
        "1",
    ];
    let mut train = vec!["train", "--epochs", "1", "--out", out_s];
    train.extend(common);
    let stdout = BIN.ok(&train);
    assert!(stdout.contains("FID"), "{stdout}");
    assert!(out.join("samples/epoch-001.png").is_file());
    let first = report(&out);
    let fid = first["fid"][0]["fid"].as_f64().unwrap();
    let classes = first["fid"][0]["classes_in_1000"].as_u64().unwrap();
    assert!(fid.is_finite() && fid > 0.0, "{fid}");
    assert!((1..=10).contains(&classes), "{classes}");

    let stdout = BIN.ok(&["train", "--epochs", "2", "--resume", "--out", out_s]);
    assert!(stdout.contains("resuming"), "{stdout}");
    let second = report(&out);
    assert_eq!(second["resumed_from_epoch"], 1);
    assert!(out.join("samples/epoch-002.png").is_file());
    assert_eq!(
        second["fid"].as_array().unwrap().len(),
        2,
        "FID at epochs 1 and 2"
    );

    let weights = out.join("generator.bpk");
    let weights = weights.to_str().unwrap();
    let a = dir.path().join("a.png");
    let b = dir.path().join("b.png");
    for path in [&a, &b] {
        BIN.ok(&[
            "sample",
            "--weights",
            weights,
            "--n",
            "16",
            "--seed",
            "1",
            "--output",
            path.to_str().unwrap(),
        ]);
    }
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "seeded samples differ"
    );

    // Real training digits against test digits: the floor, far below a 2-epoch generator.
    let stdout = BIN.ok(&[
        "fid",
        "--real-train",
        "--classifier",
        &classifier,
        "--fid-samples",
        "300",
        "--limit-test",
        "300",
    ]);
    let floor: f64 = stdout
        .split("test images: ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    let generated = second["fid"][1]["fid"].as_f64().unwrap();
    assert!(floor < generated, "floor {floor} vs generated {generated}");
}

#[test]
fn bad_input_fails_with_a_message() {
    let err = BIN.failing(&["train", "--classifier", "no/such/cnn.bpk", "--epochs", "1"]);
    assert!(err.contains("no/such/cnn.bpk"), "{err}");
    let err = BIN.failing(&["sample", "--weights", "/tmp/nowhere/generator.bpk"]);
    assert!(err.contains("config.json"), "{err}");
    let err = BIN.failing(&["fid", "--real-train"]);
    assert!(err.contains("--classifier"), "{err}");
}

#[test]
fn conditional_mlp_gan_draws_one_column_per_class_and_is_judged_on_its_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let classifier = classifier();
    BIN.ok(&[
        "train",
        "--arch",
        "mlp",
        "--conditional",
        "--width",
        "16",
        "--epochs",
        "1",
        "--limit-train",
        "512",
        "--limit-test",
        "300",
        "--batch-size",
        "64",
        "--classifier",
        &classifier,
        "--fid-samples",
        "300",
        "--out",
        out.to_str().unwrap(),
    ]);
    let score = &report(&out)["fid"][0];
    let accuracy = score["label_accuracy"]
        .as_f64()
        .expect("a conditional run reports label accuracy");
    assert!((0.0..=100.0).contains(&accuracy), "{accuracy}");
    // 8 rows of 10 classes, 28-pixel tiles drawn at twice the size with 2-pixel gaps.
    let grid = image::open(out.join("samples/epoch-001.png")).unwrap();
    assert_eq!((grid.width(), grid.height()), (10 * 58 + 2, 8 * 58 + 2));
}
