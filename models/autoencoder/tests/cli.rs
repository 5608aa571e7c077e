//! The `autoencoder` binary end to end on a slice of MNIST: train, resume, eval, encode, probe,
//! pictures, and clean errors.

use autoencoder::{Autoencoder, AutoencoderConfig, Noise};
use burn::prelude::*;
use datasets::ImageShape;
use generative::blocks::Arch;
use trainer::testing::{Binary, report};

const BIN: Binary = Binary(env!("CARGO_BIN_EXE_autoencoder"));
/// −log p(x) of an untrained decoder that outputs 0.5 everywhere: 784 · ln 2 nats.
const UNTRAINED_BCE: f64 = 784.0 * std::f64::consts::LN_2;

#[test]
fn denoising_autoencoder_trains_resumes_and_serves_its_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    let slice = ["--limit-train", "2048", "--limit-test", "200"];
    let mut train = vec![
        "train",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--out",
        out_s,
    ];
    train.extend(["--schedule", "constant"]);
    train.extend(slice);
    train.extend([
        "--denoise",
        "0.3",
        "--noise",
        "masking",
        "--hidden",
        "64",
        "--latent",
        "16",
    ]);
    BIN.ok(&train);
    let first = report(&out);
    let bce = first["test"]["bce"].as_f64().unwrap();
    assert!(bce < 0.8 * UNTRAINED_BCE, "test BCE {bce} after one epoch");
    assert!(first["test"]["denoised_bce"].as_f64().unwrap() > bce * 0.9);
    for file in [
        "metrics.csv",
        "config.json",
        "model.bpk",
        "reconstructions.png",
        "bce.png",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let png = image::open(out.join("reconstructions.png")).unwrap();
    assert_eq!(
        png.height(),
        3 * (2 * 28 + 2) + 2,
        "three rows: clean, noisy, reconstructed"
    );

    let stdout = BIN.ok(&["train", "--epochs", "2", "--resume", "--out", out_s]);
    assert!(stdout.contains("resuming"), "{stdout}");
    let second = report(&out);
    assert_eq!(second["resumed_from_epoch"], 1);
    assert!(second["test"]["bce"].as_f64().unwrap() < bce);

    let weights = out.join("model.bpk");
    let weights = weights.to_str().unwrap();
    let stdout = BIN.ok(&["eval", "--weights", weights, "--limit-test", "100"]);
    assert!(stdout.contains("bce") && stdout.contains("mse"), "{stdout}");
    BIN.ok(&["encode", "--weights", weights, "--limit-test", "50"]);
    let csv = std::fs::read_to_string(out.join("codes-test.csv")).unwrap();
    assert_eq!(csv.lines().count(), 51);
    assert!(csv.starts_with("index,label,z0,"), "{csv}");
    assert_eq!(csv.lines().nth(1).unwrap().split(',').count(), 2 + 16);
    let stdout = BIN.ok(&[
        "probe",
        "--weights",
        weights,
        "--limit-train",
        "1024",
        "--limit-test",
        "200",
        "--probe-epochs",
        "100",
    ]);
    let accuracy: f64 = stdout
        .split("test accuracy ")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    // Chance is 10%; the 16-d codes of this 2-epoch, 2,048-image autoencoder reach about 58%.
    assert!(accuracy > 35.0, "{stdout}");
}

#[test]
fn bad_flags_fail_with_a_message() {
    let err = BIN.failing(&[
        "train",
        "--denoise",
        "1.5",
        "--noise",
        "masking",
        "--epochs",
        "1",
    ]);
    assert!(err.contains("--denoise"), "{err}");
    let err = BIN.failing(&["eval", "--weights", "no/such/model.bpk"]);
    assert!(err.contains("no/such/model.bpk"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err = BIN.failing(&["train", "--resume", "--out", dir.path().to_str().unwrap()]);
    assert!(err.contains("config.json"), "{err}");
}

/// Data-parallel training on the run driver: two CPU workers (`--devices flex,flex`) take the
/// same optimizer steps as one worker summing the gradients of two batches, so every epoch's
/// training loss and the test loss agree, also for a run interrupted and resumed; at half the
/// learning rate they do not.
#[test]
fn two_cpu_workers_match_one_worker_accumulating_two_batches() {
    let dir = tempfile::tempdir().unwrap();
    let losses = |out: &std::path::Path| -> Vec<f64> {
        trainer::testing::csv_values(out, "train", "bce")
            .into_iter()
            .map(|(_, v)| v)
            .chain([report(out)["test"]["bce"].as_f64().unwrap()])
            .collect()
    };
    let train = |name: &str, epochs: &str, lr: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec![
            "train",
            "--epochs",
            epochs,
            "--batch-size",
            "32",
            "--lr",
            lr,
            "--schedule",
            "constant",
            "--limit-train",
            "512",
            "--limit-valid",
            "64",
            "--limit-test",
            "64",
            "--hidden",
            "32",
            "--latent",
            "8",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let stdout = BIN.ok(&args);
        (stdout, losses(&out))
    };
    let (stdout, parallel) = train("parallel", "2", "1e-3", &["--devices", "flex,flex"]);
    assert!(
        stdout.contains("(2 workers × 1 batch per step)"),
        "{stdout}"
    );
    let (_, accumulated) = train("accumulated", "2", "1e-3", &["--grad-accumulation", "2"]);
    assert_eq!(parallel.len(), 3, "two epochs and the test: {parallel:?}");
    // The same optimizer steps: every parameter of the final weights agrees.
    let parameters = |name: &str| {
        let config = AutoencoderConfig {
            arch: Arch::Dense,
            hidden: vec![32],
            channels: 32,
            latent: 8,
            denoise: None,
            noise: Noise::Gaussian,
        };
        let mnist = ImageShape {
            channels: 1,
            height: 28,
            width: 28,
        };
        let model = Autoencoder::new(&config, mnist, &Device::flex())
            .unwrap()
            .try_load_file(dir.path().join(name).join("model.bpk"))
            .unwrap();
        trainer::testing::parameters(&model)
    };
    let mut worst = 0f32;
    for ((name, a), (_, b)) in parameters("parallel")
        .iter()
        .zip(&parameters("accumulated"))
    {
        let diff = trainer::testing::max_abs_diff(a, b);
        assert!(diff <= 1e-5, "{name}: {diff}");
        worst = worst.max(diff);
    }
    println!("max |two workers - one worker accumulating 2| over the parameters: {worst:e}");
    for (a, b) in parallel.iter().zip(&accumulated) {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs(),
            "{parallel:?} vs {accumulated:?}"
        );
    }
    // Interrupted after one epoch and resumed on the two workers: the same run as unbroken.
    train("resumed", "1", "1e-3", &["--devices", "flex,flex"]);
    let resumed = dir.path().join("resumed");
    let resumed_s = resumed.to_str().unwrap();
    BIN.ok(&[
        "train",
        "--resume",
        "--epochs",
        "2",
        "--devices",
        "flex,flex",
        "--out",
        resumed_s,
    ]);
    let resumed = losses(&resumed);
    for (a, b) in resumed.iter().zip(&parallel) {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs(),
            "{resumed:?} vs {parallel:?}"
        );
    }
    let (_, slower) = train("slower", "2", "5e-4", &["--devices", "flex,flex"]);
    assert!(
        (slower[2] - parallel[2]).abs() > 1e-3,
        "{slower:?} vs {parallel:?}"
    );
}
