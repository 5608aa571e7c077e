//! An evaluation's files: the confusion matrix (CSV and a labelled heatmap) and the ROC and
//! precision-recall curves (CSV and pictures), one curve per class or, for two classes, one for
//! the positive class (index 1).

use super::curves::{PrCurve, RocCurve, pr_curve, roc_curve};
use crate::plots::{Heatmap, plot_curves};
use crate::report::TestMetrics;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One class's curves, one-vs-rest; `None` where the split lacks the class (or all else).
pub struct ClassCurve {
    pub roc: Option<RocCurve>,
    pub pr: Option<PrCurve>,
}

/// The curves of every class from `[samples, classes]` probabilities.
pub struct ClassCurves {
    pub classes: Vec<ClassCurve>,
}

impl ClassCurves {
    pub fn new(probabilities: &[f32], targets: &[usize], num_classes: usize) -> Self {
        let classes = (0..num_classes)
            .map(|c| {
                let scores: Vec<f32> = probabilities
                    .iter()
                    .skip(c)
                    .step_by(num_classes)
                    .copied()
                    .collect();
                let positive: Vec<bool> = targets.iter().map(|&t| t == c).collect();
                ClassCurve {
                    roc: roc_curve(&scores, &positive),
                    pr: pr_curve(&scores, &positive),
                }
            })
            .collect();
        Self { classes }
    }

    /// The classes whose curves are drawn: the positive class alone of a binary task.
    fn shown(&self) -> std::ops::Range<usize> {
        if self.classes.len() == 2 {
            1..2
        } else {
            0..self.classes.len()
        }
    }

    /// Binary: the positive class's area; more classes: the mean one-vs-rest area (as
    /// scikit-learn's `roc_auc_score(multi_class="ovr")`), `None` if a class is missing.
    pub fn roc_auc(&self) -> Option<f64> {
        self.mean(|c| c.roc.as_ref().map(|r| r.auc))
    }

    /// Average precision, averaged as [`Self::roc_auc`].
    pub fn average_precision(&self) -> Option<f64> {
        self.mean(|c| c.pr.as_ref().map(|r| r.average_precision))
    }

    fn mean(&self, area: impl Fn(&ClassCurve) -> Option<f64>) -> Option<f64> {
        let shown = self.shown();
        let n = shown.len() as f64;
        let areas: Option<Vec<f64>> = self.classes[shown].iter().map(area).collect();
        Some(areas?.iter().sum::<f64>() / n)
    }
}

/// A finished evaluation: its metrics and what they came from.
pub struct Evaluation {
    pub metrics: TestMetrics,
    pub class_names: Vec<String>,
    /// `[true class, predicted class]` counts, row-major.
    pub confusion: Vec<usize>,
    /// `None` when the probabilities were not kept.
    pub curves: Option<ClassCurves>,
}

impl Evaluation {
    /// Writes `confusion.csv`, `confusion.png` and, with curves, `roc.csv`, `pr.csv`, `roc.png`
    /// and `pr.png` into `dir` (created if needed); returns the paths written.
    pub fn write(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        let mut written = Vec::new();
        let mut save = |name: &str, text: String| -> anyhow::Result<()> {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            written.push(path);
            Ok(())
        };
        save("confusion.csv", self.confusion_csv())?;
        if let Some(curves) = &self.curves {
            save("roc.csv", self.roc_csv(curves))?;
            save("pr.csv", self.pr_csv(curves))?;
        }
        let pictures = self.draw(dir);
        written.extend(pictures?);
        Ok(written)
    }

    fn draw(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let k = self.class_names.len();
        let mut written = Vec::new();
        // Colour: the share of each true class given each prediction; text: the count.
        let shares: Vec<f32> = self
            .confusion
            .chunks_exact(k)
            .flat_map(|row| {
                let total = row.iter().sum::<usize>().max(1) as f32;
                row.iter().map(move |&n| n as f32 / total)
            })
            .collect();
        let counts: Vec<String> = self.confusion.iter().map(usize::to_string).collect();
        let path = dir.join("confusion.png");
        Heatmap {
            values: &shares,
            row_labels: &self.class_names,
            col_labels: &self.class_names,
            cell_text: Some(&counts),
            axes: Some(["true class", "predicted class"]),
            title: &format!(
                "confusion matrix: {} samples, accuracy {:.2}% (shade: share of the row)",
                self.metrics.samples, self.metrics.accuracy
            ),
        }
        .draw(&path)?;
        written.push(path);
        let Some(curves) = &self.curves else {
            return Ok(written);
        };
        let mut roc = Vec::new();
        let mut pr = Vec::new();
        for c in curves.shown() {
            let name = &self.class_names[c];
            if let Some(r) = &curves.classes[c].roc {
                let points = r.false_positive_rate.iter().copied();
                let points = points.zip(r.true_positive_rate.iter().copied()).collect();
                roc.push((format!("{name} (AUC {:.3})", r.auc), points));
            }
            if let Some(p) = &curves.classes[c].pr {
                let points = p.recall.iter().copied().zip(p.precision.iter().copied());
                pr.push((
                    format!("{name} (AP {:.3})", p.average_precision),
                    points.collect(),
                ));
            }
        }
        let summary = |what: &str, area: Option<f64>| match area {
            Some(a) => format!("{what} ({}): {a:.4}", self.averaging()),
            None => format!("{what} ({})", self.averaging()),
        };
        if !roc.is_empty() {
            let path = dir.join("roc.png");
            let title = summary("ROC AUC", self.metrics.roc_auc);
            let axes = ["false positive rate", "true positive rate"];
            plot_curves(&roc, axes, true, &title, &path)?;
            written.push(path);
        }
        if !pr.is_empty() {
            let path = dir.join("pr.png");
            let title = summary("average precision", self.metrics.average_precision);
            plot_curves(&pr, ["recall", "precision"], false, &title, &path)?;
            written.push(path);
        }
        Ok(written)
    }

    fn confusion_csv(&self) -> String {
        let k = self.class_names.len();
        let mut csv = format!("true\\predicted,{}\n", self.class_names.join(","));
        for (name, row) in self.class_names.iter().zip(self.confusion.chunks_exact(k)) {
            let counts: Vec<String> = row.iter().map(usize::to_string).collect();
            let _ = writeln!(csv, "{name},{}", counts.join(","));
        }
        csv
    }

    fn roc_csv(&self, curves: &ClassCurves) -> String {
        let mut csv = String::from("class,threshold,false_positive_rate,true_positive_rate\n");
        for c in curves.shown() {
            if let Some(r) = &curves.classes[c].roc {
                for i in 0..r.thresholds.len() {
                    let (t, x, y) = (
                        r.thresholds[i],
                        r.false_positive_rate[i],
                        r.true_positive_rate[i],
                    );
                    let _ = writeln!(csv, "{},{t},{x},{y}", self.class_names[c]);
                }
            }
        }
        csv
    }

    fn pr_csv(&self, curves: &ClassCurves) -> String {
        let mut csv = String::from("class,recall,precision\n");
        for c in curves.shown() {
            if let Some(p) = &curves.classes[c].pr {
                for (r, q) in p.recall.iter().zip(&p.precision) {
                    let _ = writeln!(csv, "{},{r},{q}", self.class_names[c]);
                }
            }
        }
        csv
    }

    /// `ROC AUC 0.9987 (macro one-vs-rest)  average precision 0.9931`, or nothing without
    /// curves: the end of an evaluation's printed line.
    pub fn areas_note(&self) -> String {
        match (self.metrics.roc_auc, self.metrics.average_precision) {
            (Some(auc), Some(ap)) => format!(
                "  ROC AUC {auc:.4} ({})  average precision {ap:.4}",
                self.averaging()
            ),
            _ => String::new(),
        }
    }

    /// Which curves the areas come from: the positive class, or all classes averaged.
    fn averaging(&self) -> String {
        if self.class_names.len() == 2 {
            format!("class {}", self.class_names[1])
        } else {
            "macro one-vs-rest".into()
        }
    }
}
