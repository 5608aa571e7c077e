//! k-fold cross-validation (`train --folds K`): K runs, each validated on its own stratified
//! fold of the labelled training data, in `<out>/fold-1..K`; `folds.json` holds each fold's
//! scores and their mean ± standard deviation, `folds.png` the validation curves. The image
//! classifiers run it through the Learner ([`train_folds`]), gnn through the driver; both share
//! the fold loop ([`run_folds`]).
//!
//! Resuming (`--resume`) skips the folds that finished (they have a `report.json`), resumes the
//! one in progress from its newest checkpoint, and starts the rest.

use crate::UsageError;
use crate::classifier::ImageClassifier;
use crate::cli::TrainArgs;
use crate::metrics::read_metrics_csv;
use crate::plots::LinePlot;
use crate::report::Report;
pub use crate::supervised::Fold;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One fold's outcome in `folds.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FoldResult {
    /// From 1.
    pub fold: usize,
    pub out: PathBuf,
    pub epochs_completed: usize,
    /// The best validation accuracy over the epochs, percent, and the last one's.
    pub best_valid_accuracy: f64,
    pub final_valid_accuracy: f64,
    /// The fold's final model on the test split, percent.
    pub test_accuracy: f64,
}

/// A mean and its sample standard deviation (n − 1) over the folds.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Self {
            mean,
            std: var.sqrt(),
        }
    }
}

/// `folds.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FoldsReport {
    pub model: String,
    pub folds: Vec<FoldResult>,
    pub final_valid_accuracy: MeanStd,
    pub best_valid_accuracy: MeanStd,
    pub test_accuracy: MeanStd,
}

/// `train --folds K` of an image classifier (through the Learner).
pub fn train_folds<M: ImageClassifier>(args: TrainArgs<M::Config>) -> anyhow::Result<FoldsReport> {
    let k = check_folds(args.run.folds)?;
    let out = args.run.out_dir(M::NAME);
    if !args.run.resume {
        crate::driver::claim(&out, false)?;
    }
    check_class_counts::<M>(&args, k)?;
    run_folds(M::NAME, &out, k, args.run.resume, |fold, dir, resume| {
        let mut fold_args = args.clone();
        fold_args.run.folds = None;
        fold_args.run.out = Some(dir.to_path_buf());
        fold_args.run.resume = resume;
        crate::supervised::train_fold::<M>(fold_args, Some(fold))
    })
}

/// `--folds K` checked: at least 2 (status 2 otherwise).
pub fn check_folds(folds: Option<usize>) -> Result<usize, UsageError> {
    match folds {
        Some(k) if k >= 2 => Ok(k),
        k => Err(UsageError(format!(
            "--folds {}: cross-validation needs at least 2 folds (5 or 10 are usual)",
            k.unwrap_or(0)
        ))),
    }
}

/// The fold loop any model's cross-validation shares: for each fold, `train_one(fold, dir,
/// resume)` trains into `<out>/fold-i` (resuming when the fold has a checkpoint and the run is
/// resumed); folds that finished earlier (a `report.json`) are read back, not trained again.
/// Then `folds.json`, `folds.png` and a summary line.
pub fn run_folds(
    model: &str,
    out: &Path,
    k: usize,
    resume: bool,
    mut train_one: impl FnMut(Fold, &Path, bool) -> anyhow::Result<Report>,
) -> anyhow::Result<FoldsReport> {
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    let mut results = Vec::with_capacity(k);
    for fold in 0..k {
        let dir = out.join(format!("fold-{}", fold + 1));
        let finished = dir.join("report.json");
        let report: Report = if finished.is_file() {
            println!(
                "fold {}/{k}: finished earlier ({})",
                fold + 1,
                dir.display()
            );
            serde_json::from_str(&std::fs::read_to_string(&finished)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", finished.display()))?
        } else {
            // The fold in progress resumes from its checkpoint; one killed before its first
            // checkpoint starts over.
            let resume_fold = resume && has_checkpoint(&dir);
            if !resume_fold && dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            println!("fold {}/{k} → {}", fold + 1, dir.display());
            train_one(Fold { folds: k, fold }, &dir, resume_fold)?
        };
        results.push(fold_result(fold + 1, &dir, &report)?);
    }
    let column =
        |f: fn(&FoldResult) -> f64| MeanStd::of(&results.iter().map(f).collect::<Vec<_>>());
    let report = FoldsReport {
        model: model.into(),
        final_valid_accuracy: column(|r| r.final_valid_accuracy),
        best_valid_accuracy: column(|r| r.best_valid_accuracy),
        test_accuracy: column(|r| r.test_accuracy),
        folds: results,
    };
    std::fs::write(
        out.join("folds.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    if let Err(e) = plot_folds(out, &report) {
        eprintln!("warning: cannot draw folds.png: {e}");
    }
    println!(
        "{k}-fold cross-validation: validation accuracy {:.2} ± {:.2}% (best epoch {:.2} ± {:.2}%), test accuracy {:.2} ± {:.2}%",
        report.final_valid_accuracy.mean,
        report.final_valid_accuracy.std,
        report.best_valid_accuracy.mean,
        report.best_valid_accuracy.std,
        report.test_accuracy.mean,
        report.test_accuracy.std
    );
    println!("wrote {}", out.join("folds.json").display());
    Ok(report)
}

/// Whether a run folder holds a checkpoint: the Learner's `model-N.bpk` set or the driver's
/// `epoch-N/` folders.
fn has_checkpoint(dir: &Path) -> bool {
    !crate::checkpoint::checkpoint_epochs(dir).is_empty()
        || std::fs::read_dir(dir.join("checkpoint")).is_ok_and(|entries| {
            entries
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with("epoch-"))
        })
}

/// Refuses more folds than the smallest class has images (status 2), before any training.
fn check_class_counts<M: ImageClassifier>(
    args: &TrainArgs<M::Config>,
    k: usize,
) -> anyhow::Result<()> {
    let dataset = args
        .data
        .dataset
        .unwrap_or(M::recipe(&args.model, None).dataset);
    let mut train = crate::data::load_split(dataset, datasets::Split::Train, &args.data)?;
    if let Some(n) = args.run.limit_train {
        train = train.take(n);
    }
    let counts = train.class_counts();
    if let Some((class, &n)) = counts.iter().enumerate().min_by_key(|c| *c.1)
        && n < k
    {
        return Err(UsageError(format!(
            "--folds {k}: class {} has only {n} training images, and every fold needs at least \
             one of each class; use --folds {n} or fewer (or a larger --limit-train)",
            train.classes()[class]
        ))
        .into());
    }
    Ok(())
}

fn fold_result(fold: usize, dir: &Path, report: &Report) -> anyhow::Result<FoldResult> {
    let valid = valid_accuracy(dir)?;
    anyhow::ensure!(
        !valid.is_empty(),
        "{}: no validation accuracy in metrics.csv",
        dir.display()
    );
    Ok(FoldResult {
        fold,
        out: dir.to_path_buf(),
        epochs_completed: report.epochs_completed,
        best_valid_accuracy: valid.iter().map(|p| p.1).fold(f64::MIN, f64::max),
        final_valid_accuracy: valid.last().map(|p| p.1).unwrap_or_default(),
        test_accuracy: report.test.accuracy,
    })
}

/// (epoch, validation accuracy) of the run in `dir`, by epoch.
fn valid_accuracy(dir: &Path) -> anyhow::Result<Vec<(f64, f64)>> {
    let mut points: Vec<(f64, f64)> = read_metrics_csv(&dir.join("metrics.csv"))?
        .into_iter()
        .filter(|r| r.split == "valid" && r.metric == "accuracy")
        .map(|r| (r.epoch as f64, r.value))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(points)
}

/// `folds.png`: each fold's validation accuracy by epoch.
fn plot_folds(out: &Path, report: &FoldsReport) -> anyhow::Result<()> {
    let mut curves = Vec::new();
    for f in &report.folds {
        curves.push((
            format!("fold {} (test {:.2}%)", f.fold, f.test_accuracy),
            valid_accuracy(&f.out)?,
        ));
    }
    let points = curves.iter().flat_map(|c| c.1.iter());
    let (lo, hi, last) = points.fold((f64::MAX, f64::MIN, 1.0f64), |(lo, hi, last), p| {
        (lo.min(p.1), hi.max(p.1), last.max(p.0))
    });
    let pad = ((hi - lo) * 0.1).max(0.5);
    LinePlot {
        curves: &curves,
        axes: ["epoch", "validation accuracy (%)"],
        x: 1.0..last.max(2.0),
        y: (lo - pad)..(hi + pad).min(100.5),
        diagonal: false,
        legend: plotters::chart::SeriesLabelPosition::LowerRight,
        title: &format!(
            "{}: {}-fold validation accuracy {:.2} ± {:.2}%",
            report.model,
            report.folds.len(),
            report.final_valid_accuracy.mean,
            report.final_valid_accuracy.std
        ),
    }
    .draw(&out.join("folds.png"))
}
