//! `report.json`: what was trained, on what, how long it took and how well it does on test;
//! and the facts about the process a report records (peak memory, git commit).

use serde::Serialize;

/// Test-set metrics computed by [`crate::evaluate`].
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct TestMetrics {
    pub samples: usize,
    pub loss: f64,
    /// Percent.
    pub accuracy: f64,
    /// Percent, when the data set has more than 5 classes.
    pub top5_accuracy: Option<f64>,
    /// Macro averages over classes, percent (as burn-train reports them per epoch).
    pub precision_macro: f64,
    pub recall_macro: f64,
    pub f1_macro: f64,
    /// Area under the ROC curve: of the positive class (index 1) for two classes, the mean
    /// over classes one-vs-rest for more. `None` when a class is missing from the split.
    #[serde(default)]
    pub roc_auc: Option<f64>,
    /// Average precision (area under the precision-recall steps), averaged the same way.
    #[serde(default)]
    pub average_precision: Option<f64>,
    /// Each class, in class order.
    #[serde(default)]
    pub per_class: Vec<ClassMetrics>,
}

impl TestMetrics {
    /// `ham 99.21%, spam 94.80%`: each class's F1, for a run's last line.
    pub fn f1_per_class_note(&self) -> String {
        let f1: Vec<String> = self
            .per_class
            .iter()
            .map(|c| format!("{} {:.2}%", c.class, c.f1))
            .collect();
        f1.join(", ")
    }
}

/// One class's row of the evaluation table (percent, except the areas and the count).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Test samples of this class.
    pub support: usize,
    /// One-vs-rest area under the ROC curve, in [0, 1].
    pub roc_auc: Option<f64>,
    pub average_precision: Option<f64>,
}

/// `report.json`: what was trained, how long it took and how well it does on test.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Report {
    pub model: String,
    pub dataset: String,
    pub device: String,
    pub seed: u64,
    pub epochs_completed: usize,
    pub epochs_requested: usize,
    pub resumed_from_epoch: Option<usize>,
    pub train_samples: usize,
    pub valid_samples: usize,
    pub wall_seconds: f64,
    pub train_samples_per_second: f64,
    pub parameters: usize,
    /// Share of the weights (rank ≥ 2) below 1e-3 in magnitude, percent: what `--l1` drives up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_near_zero_percent: Option<f64>,
    /// Files of an image folder that could not be read and were left out (each named in a
    /// warning when the run started).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_files: usize,
    pub test: TestMetrics,
    #[serde(flatten)]
    pub provenance: Provenance,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The Burn version every figure is measured with (the workspace pins `burn = "=0.22.1"`).
pub const BURN_VERSION: &str = "0.22.1";

/// Where a run's figures come from, written into every `report.json`: the commit, Burn's
/// version, and the process's peak memory.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Provenance {
    pub git_commit: Option<String>,
    pub burn_version: String,
    /// Peak resident memory of the process (Linux `VmHWM`), MiB.
    #[serde(default)]
    pub peak_rss_mib: Option<f64>,
}

impl Provenance {
    /// This process, now (call it when the run's work is done, so the peak memory is final).
    pub fn now() -> Self {
        Self {
            git_commit: git_commit(),
            burn_version: BURN_VERSION.into(),
            peak_rss_mib: peak_rss_mib(),
        }
    }

    /// `, peak RSS N MiB` when the platform reports it (for the final line of a run).
    pub fn rss_note(&self) -> String {
        rss_note(self.peak_rss_mib)
    }
}

/// `, peak RSS N MiB` when the platform reports it (for the final line of a run).
pub fn rss_note(mib: Option<f64>) -> String {
    mib.map(|m| format!(", peak RSS {m:.0} MiB"))
        .unwrap_or_default()
}

/// Peak resident set size of this process in MiB (`VmHWM` of `/proc/self/status`; Linux only).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
