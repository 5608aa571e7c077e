//! The `dqn` binary end to end on a short run: output files, the same seed giving the same
//! returns, resume after an interruption continuing the same run, eval/play/quantize, and
//! clear errors for bad flags.

use std::path::Path;
use trainer::testing::{Binary, report};

const DQN: Binary = Binary(env!("CARGO_BIN_EXE_dqn"));

/// A run of three short epochs that learns (200 steps each, after 100 random ones).
const SHORT: &[&str] = &[
    "--epochs",
    "3",
    "--epoch-steps",
    "200",
    "--learning-starts",
    "100",
    "--train-freq",
    "20",
    "--gradient-steps",
    "4",
    "--hidden",
    "32",
    "--eval-episodes",
    "3",
    "--test-episodes",
    "5",
];

fn train(out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["train", "--out", out.to_str().unwrap()];
    args.extend(SHORT);
    args.extend(extra);
    DQN.ok(&args)
}

/// Every parameter of a run's model.bpk, in order (the file itself also holds random ids).
fn weights(run: &Path) -> Vec<f32> {
    let device = burn::prelude::Device::flex();
    let config = dqn::QNetworkConfig { hidden: vec![32] };
    let fresh = dqn::QNetwork::new(&config, 4, 2, &device);
    let model = trainer::weights::load_weights(fresh, &run.join("model.bpk"), &[]).unwrap();
    model.values()
}

fn file(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_run_is_reproducible_and_resumes_where_it_was_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let stdout = train(&a, &["--double"]);
    assert!(
        stdout.contains("(double)") && stdout.contains("epoch 3/3"),
        "{stdout}"
    );
    for f in [
        "model.bpk",
        "config.json",
        "metrics.csv",
        "episodes.csv",
        "returns.png",
        "report.json",
        "checkpoint/epoch-3/replay.bin",
        "checkpoint/epoch-3/target.bpk",
        "checkpoint/epoch-3/optim.bpk",
    ] {
        assert!(a.join(f).is_file(), "no {f}");
    }
    let r = report(&a);
    assert_eq!(r["env_steps"], 600);
    assert_eq!(r["gradient_steps"], 4 * (600 - 100) / 20 + 4);
    assert_eq!(r["test"]["episodes"], 5);

    // The same run, killed after epoch 2's checkpoint (simulated: epoch 3's checkpoint and the
    // final files removed), then resumed: every episode and the final weights are the same.
    train(&b, &["--double"]);
    std::fs::remove_dir_all(b.join("checkpoint/epoch-3")).unwrap();
    for f in ["model.bpk", "report.json"] {
        std::fs::remove_file(b.join(f)).unwrap();
    }
    let resumed = DQN.ok(&["train", "--out", b.to_str().unwrap(), "--resume"]);
    assert!(
        resumed.contains("resuming") && resumed.contains("epoch 3/3"),
        "{resumed}"
    );
    assert_eq!(
        String::from_utf8(file(&a.join("episodes.csv"))).unwrap(),
        String::from_utf8(file(&b.join("episodes.csv"))).unwrap(),
        "the resumed run saw other episodes"
    );
    assert_eq!(
        weights(&a),
        weights(&b),
        "the resumed run ended with other weights"
    );
    assert_eq!(report(&b)["resumed_from_epoch"], 2);
    assert_eq!(report(&a)["test"], report(&b)["test"]);

    // eval prints the run's test figure; play draws; quantize writes a smaller file.
    let weights = a.join("model.bpk");
    let weights = weights.to_str().unwrap();
    let eval = DQN.ok(&["eval", "--weights", weights, "--episodes", "5"]);
    let mean = r["test"]["mean"].as_f64().unwrap();
    assert!(eval.contains(&format!("mean return {mean:.2}")), "{eval}");
    for picture in ["episode.gif", "episode.png"] {
        let path = dir.path().join(picture);
        DQN.ok(&[
            "play",
            "--weights",
            weights,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(file(&path).len() > 1000, "{picture}");
    }
    let gif = file(&dir.path().join("episode.gif"));
    assert!(gif.starts_with(b"GIF89a"));
    let quantized = dir.path().join("q/model.bpk");
    DQN.ok(&[
        "quantize",
        "--weights",
        weights,
        "--episodes",
        "3",
        "--out",
        quantized.to_str().unwrap(),
    ]);
    // A network this small is mostly file metadata: smaller is all 8 bits can promise here.
    assert!(file(&quantized).len() < file(&a.join("model.bpk")).len());
}

#[test]
fn bad_flags_are_refused_by_name_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    for (flags, named) in [
        (&["--gamma", "1.5"][..], "--gamma"),
        (&["--tau", "0"][..], "--tau"),
        (&["--epsilon-end", "2"][..], "--epsilon-end"),
        (&["--train-freq", "0"][..], "--train-freq"),
        (&["--epochs", "0"][..], "--epochs"),
        (&["--optimizer", "sgd"][..], "--optimizer"),
        (&["--limit-train", "10"][..], "--limit-train"),
        (&["--device", "tpu"][..], "tpu"),
    ] {
        let mut args = vec!["train", "--out", out_s];
        args.extend(flags);
        let output = DQN.run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{flags:?} was accepted");
        assert!(stderr.contains(named), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.join("config.json").exists(), "{flags:?} wrote a run");
    }
    let err = DQN.failing(&["play", "--weights", "nope.bpk", "--out", "x.mp4"]);
    assert!(err.contains(".gif"), "{err}");
    let err = DQN.failing(&["eval", "--weights", "missing.bpk"]);
    assert!(err.contains("missing.bpk"), "{err}");
}
