//! Data-parallel training: two CPU workers (`--devices flex,flex`, Burn's MultiDevice) take the
//! same optimizer steps as one worker accumulating the gradients of two batches, on the same
//! data with dropout off.

use burn::prelude::*;
use mlp::{Mlp, MlpConfig};
use std::path::Path;
use trainer::testing::Binary;

const MLP: Binary = Binary(env!("CARGO_BIN_EXE_mlp"));

fn train(out: &Path, lr: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "train",
        "--epochs",
        "3",
        "--limit-train",
        "64",
        "--batch-size",
        "32",
        "--limit-valid",
        "32",
        "--limit-test",
        "32",
        "--dropout",
        "0",
        "--optimizer",
        "sgd",
        "--momentum",
        "0",
        "--lr",
        lr,
        "--schedule",
        "constant",
        "--warmup-epochs",
        "0",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    MLP.ok(&args)
}

/// Every parameter of a run's final weights, by name.
fn parameters(run: &Path) -> Vec<(String, Vec<f32>)> {
    let model = Mlp::new(&MlpConfig::default(), 784, 10, &Device::flex())
        .try_load_file(run.join("model.bpk"))
        .unwrap();
    trainer::testing::parameters(&model)
}

#[test]
fn two_cpu_workers_match_one_worker_accumulating_two_batches() {
    let dir = tempfile::tempdir().unwrap();
    let (parallel, accumulated) = (dir.path().join("parallel"), dir.path().join("accumulated"));
    let stdout = train(&parallel, "0.1", &["--devices", "flex,flex"]);
    assert!(
        stdout.contains("flex,flex (multi-device data parallel)"),
        "{stdout}"
    );
    train(&accumulated, "0.1", &["--grad-accumulation", "2"]);
    let mut worst = 0f32;
    let (a, b) = (parameters(&parallel), parameters(&accumulated));
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        let diff = trainer::testing::max_abs_diff(x, y);
        worst = worst.max(diff);
        assert!(diff <= 1e-5, "{name}: {diff}");
    }
    println!("max |two workers - one worker accumulating 2| over the parameters: {worst:e}");
    // The steps were taken: with half the learning rate the weights end elsewhere.
    let slower = dir.path().join("slower");
    train(&slower, "0.05", &["--devices", "flex,flex"]);
    assert_ne!(parameters(&slower)[0].1, a[0].1);
}

#[test]
fn ddp_off_cuda_and_unknown_devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    for (extra, says) in [
        (
            &["--devices", "flex,flex", "--strategy", "ddp"][..],
            "CUDA devices only",
        ),
        (&["--devices", "flex,tpu"][..], "--devices"),
    ] {
        let mut args = vec!["train", "--epochs", "1", "--out", out.to_str().unwrap()];
        args.extend(extra);
        let output = MLP.run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(says) && !stderr.contains("panicked"),
            "{stderr}"
        );
        assert!(!out.exists(), "{extra:?} wrote {}", out.display());
    }
}

/// The learning-rate schedule counts optimizer steps: two workers at batch 32 follow the same
/// warm-up and cosine as one worker at batch 64. (With `--grad-accumulation` the logged rate
/// is a mean over batches, several per step, so it is not comparable this way.)
#[test]
fn the_schedule_counts_optimizer_steps_not_batches() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec![
            "train",
            "--epochs",
            "3",
            "--limit-train",
            "256",
            "--limit-valid",
            "32",
            "--limit-test",
            "32",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        MLP.ok(&args);
        trainer::testing::csv_values(&out, "train", "lr")
    };
    let single = run("single", &["--batch-size", "64"]);
    assert_eq!(single.len(), 3);
    let parallel = run(
        "parallel",
        &["--batch-size", "32", "--devices", "flex,flex"],
    );
    assert_eq!(parallel.len(), 3);
    for ((epoch, a), (_, b)) in single.iter().zip(&parallel) {
        assert!((a - b).abs() <= 1e-12, "epoch {epoch}: {a} vs {b}");
    }
}
