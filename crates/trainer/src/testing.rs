//! Helpers for end-to-end tests of model binaries (`tests/cli.rs` in each model crate).

use std::path::Path;
use std::process::{Command, Output};

/// A model binary under test, e.g. `Binary(env!("CARGO_BIN_EXE_mlp"))`. Downloads are off.
#[derive(Clone, Copy)]
pub struct Binary(pub &'static str);

impl Binary {
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    /// [`Binary::run`] with more environment variables set.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(self.0)
            .args(args)
            .env("ZOO_OFFLINE", "1")
            .envs(env.iter().copied())
            .output()
            .expect("run the model binary")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?} failed\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs and expects a clean failure (no panic); returns stderr.
    pub fn failing(&self, args: &[&str]) -> String {
        self.failing_with_env(args, &[])
    }

    /// [`Binary::failing`] with more environment variables set.
    pub fn failing_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run_with_env(args, env);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        stderr
    }
}

/// `report.json` of a run.
pub fn report(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// `(epoch, value)` of one split and metric from a run's `metrics.csv`.
pub fn csv_values(out: &Path, split: &str, metric: &str) -> Vec<(usize, f64)> {
    crate::metrics::read_metrics_csv(&out.join("metrics.csv"))
        .expect("metrics.csv")
        .into_iter()
        .filter(|r| r.split == split && r.metric == metric)
        .map(|r| (r.epoch, r.value))
        .collect()
}

/// Whether the real CIFAR-10 is available (`ZOO_DATA_DIR` set); prints a notice when not, and
/// panics when `ZOO_REQUIRE_DATA=1`.
pub fn cifar_available(what: &str) -> bool {
    if std::env::var_os("ZOO_DATA_DIR").is_some() {
        return true;
    }
    assert!(
        std::env::var("ZOO_REQUIRE_DATA").map_or(true, |v| v != "1"),
        "ZOO_REQUIRE_DATA=1 but ZOO_DATA_DIR is unset: {what} needs CIFAR-10"
    );
    eprintln!("notice: skipping {what}: set ZOO_DATA_DIR to a folder holding cifar-10/");
    false
}

/// Runs `eval` in-process with these flags (as `<model> eval <flags>`) and returns its metrics;
/// its pictures go to a temporary folder, not beside the (committed) weights.
pub fn eval_with<M: crate::ImageClassifier>(flags: &[&str]) -> anyhow::Result<crate::TestMetrics> {
    use clap::Parser;
    let out = std::env::temp_dir().join(format!("zoo-eval-{}-{}", M::NAME, std::process::id()));
    let out = out.to_string_lossy().into_owned();
    let args = [M::NAME, "eval", "--out", &out]
        .into_iter()
        .chain(flags.iter().copied());
    match crate::cli::Cli::<M::Config>::try_parse_from(args)?.command {
        crate::cli::Command::Eval(args) => crate::eval::<M>(args),
        _ => unreachable!("parsed as eval"),
    }
}

/// Largest absolute difference between two equally long slices (parity tests).
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "compared slices differ in length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

/// Trains `model` on one batch for `steps` Adam steps at `lr` and returns it.
pub fn fit_one_batch<M: crate::ImageClassifier>(
    mut model: M,
    batch: &datasets::ImageBatch,
    steps: usize,
    lr: f64,
) -> M {
    use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
    use burn::train::TrainStep;
    let mut optim = burn::optim::AdamConfig::new().init();
    for _ in 0..steps {
        let out = TrainStep::step(&model, batch.clone());
        let lr: ModuleLearningRate = lr.into();
        model = optim.step(lr, model, out.grads);
    }
    model
}

/// Every f32 parameter of `model` by its path (enum variants left out), for comparing runs.
pub fn parameters<M: burn::store::ModuleSnapshot>(model: &M) -> Vec<(String, Vec<f32>)> {
    model
        .collect(None, None, true)
        .into_iter()
        .map(|tensor| {
            let bytes = tensor.to_bytes().expect("a parameter's bytes");
            let values = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
            (tensor.name.clone(), values)
        })
        .collect()
}

pub mod hub;
