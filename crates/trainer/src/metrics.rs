//! `metrics.csv`: one row per epoch, split and metric; the burn-train logger that fills it for
//! the Learner (one readable line per epoch, and the divergence check), and reading it back for
//! resume and plots. Also the training step's outputs as the Learner's metrics need them
//! ([`for_metrics`]).

use burn::prelude::Device;
use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::{ClassificationOutput, Interrupter};
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The device the Learner's training metrics add up on while several devices train.
static METRICS_DEVICE: Mutex<Option<Device>> = Mutex::new(None);

/// A training step's outputs, moved to the first of several `--devices` for the metrics:
/// burn-train 0.22.1's confusion-matrix metrics (precision, recall, F1) sum every worker's
/// outputs on the device they come from, which panics across distinct devices (two GPUs, two
/// remote servers). Without autodiff: the metrics read them only. One device: unchanged.
pub fn for_metrics(output: ClassificationOutput) -> ClassificationOutput {
    let main = METRICS_DEVICE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let Some(main) = main.filter(|main| *main != output.loss.device().without_autodiff()) else {
        return output;
    };
    ClassificationOutput {
        loss: output.loss.without_autodiff().to_device(&main),
        output: output.output.without_autodiff().to_device(&main),
        targets: output.targets.without_autodiff().to_device(&main),
    }
}

/// Set by [`crate::parallel::strategy`]: the first device while several train with `multi`.
pub(crate) fn set_metrics_device(device: Option<Device>) {
    *METRICS_DEVICE.lock().unwrap_or_else(|e| e.into_inner()) = device;
}

/// One value of `metrics.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    pub epoch: usize,
    pub split: String,
    pub metric: String,
    pub value: f64,
}

/// Short, stable column names for Burn's metric names.
pub fn metric_key(burn_name: &str) -> String {
    let known = [
        ("Loss", "loss"),
        ("Accuracy", "accuracy"),
        ("Top-K Accuracy", "top5_accuracy"),
        ("Precision", "precision_macro"),
        ("Recall", "recall_macro"),
        ("FBetaScore", "f1_macro"),
        ("Learning Rate", "lr"),
        ("Iteration Speed", "iterations_per_s"),
    ];
    // Longest prefix first so "Top-K Accuracy" does not read as "Accuracy".
    let mut best: Option<(&str, &str)> = None;
    for (prefix, key) in known {
        if burn_name.starts_with(prefix) && best.is_none_or(|(p, _)| prefix.len() > p.len()) {
            best = Some((prefix, key));
        }
    }
    match best {
        Some((_, key)) => key.to_string(),
        None => burn_name
            .to_ascii_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
    }
}

/// Epoch values gathered by [`EpochLogger`], shared with the trainer.
#[derive(Debug, Default)]
pub struct EpochLog {
    pub rows: Vec<MetricRow>,
    /// Where the training loss stopped being finite: epoch, step within it, value.
    pub diverged: Option<(usize, usize, f64)>,
}

impl EpochLog {
    pub fn value(&self, epoch: usize, split: &str, metric: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.epoch == epoch && r.split == split && r.metric == metric)
            .map(|r| r.value)
    }

    pub fn last_epoch(&self) -> Option<usize> {
        self.rows.iter().map(|r| r.epoch).max()
    }
}

/// A burn-train metric logger that keeps each metric's epoch value, prints one line per epoch
/// when stdout is not a terminal (the TUI shows otherwise), and rewrites `metrics.csv` after
/// every epoch so an interrupted run keeps its history.
pub struct EpochLogger {
    log: Arc<Mutex<EpochLog>>,
    csv_path: PathBuf,
    names: HashMap<MetricId, String>,
    current: BTreeMap<(String, String), f64>,
    total_epochs: usize,
    train_items: usize,
    split_started: Option<Instant>,
    train_seconds: f64,
    print: bool,
    /// Stops the Learner when the training loss is not finite.
    interrupter: Option<Interrupter>,
    /// Training steps logged in the current epoch.
    step: (usize, usize),
}

impl EpochLogger {
    pub fn new(
        log: Arc<Mutex<EpochLog>>,
        csv_path: PathBuf,
        total_epochs: usize,
        train_items: usize,
    ) -> Self {
        Self {
            log,
            csv_path,
            names: HashMap::new(),
            current: BTreeMap::new(),
            total_epochs,
            train_items,
            split_started: None,
            train_seconds: 0.0,
            print: !std::io::stdout().is_terminal(),
            interrupter: None,
            step: (0, 0),
        }
    }

    /// Checks every training step's loss; a non-finite one is recorded in the log's `diverged`
    /// and stops the Learner through `interrupter` before that epoch's checkpoint is written.
    pub fn stop_on_divergence(mut self, interrupter: Interrupter) -> Self {
        self.interrupter = Some(interrupter);
        self
    }

    fn split_name(split: &Split) -> &'static str {
        match split {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test(_) => "test",
        }
    }

    fn epoch_line(&self, epoch: usize) -> String {
        let get = |split: &str, metric: &str| {
            self.current
                .get(&(split.to_string(), metric.to_string()))
                .copied()
        };
        let mut line = format!("epoch {epoch}/{}", self.total_epochs);
        for split in ["train", "valid"] {
            line.push_str(&format!("  {split}"));
            if let Some(loss) = get(split, "loss") {
                line.push_str(&format!(" loss {loss:.4}"));
            }
            if let Some(acc) = get(split, "accuracy") {
                line.push_str(&format!(" acc {acc:.2}%"));
            }
            if let Some(f1) = get(split, "f1_macro") {
                line.push_str(&format!(" f1 {f1:.2}"));
            }
        }
        if let Some(lr) = get("train", "lr") {
            line.push_str(&format!("  lr {lr:.2e}"));
        }
        if let Some(speed) = get("train", "samples_per_s") {
            line.push_str(&format!("  {speed:.0} samples/s"));
        }
        line
    }
}

impl MetricLogger for EpochLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        if self.split_started.is_none() {
            self.split_started = Some(Instant::now());
        }
        let split = Self::split_name(split).to_string();
        if split == "train" {
            self.step = if self.step.0 == epoch {
                (epoch, self.step.1 + 1)
            } else {
                (epoch, 1)
            };
        }
        for numeric in update.entries_numeric {
            let Some(name) = self.names.get(&numeric.entry.metric_id) else {
                continue;
            };
            let value = match (&numeric.numeric_entry, &numeric.running_entry) {
                (Some(NumericEntry::Final(v)), _) => *v,
                (_, Some(running)) => running.current(),
                (Some(entry), None) => entry.current(),
                (None, None) => continue,
            };
            if split == "train" && name == "loss" && !value.is_finite() {
                let step = self.step.1;
                let mut log = self.log.lock().expect("epoch log lock");
                if log.diverged.is_none() {
                    log.diverged = Some((epoch, step, value));
                }
                if let Some(interrupter) = &self.interrupter {
                    interrupter.stop(Some("the training loss is not finite"));
                }
            }
            if value.is_finite() {
                self.current.insert((split.clone(), name.clone()), value);
            }
        }
    }

    fn read_numeric(
        &mut self,
        _name: &str,
        _epoch: usize,
        _split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        Err("the epoch logger keeps no per-iteration history".into())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, metric_key(&definition.name));
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        let seconds = self
            .split_started
            .take()
            .map(|t| t.elapsed().as_secs_f64())
            .unwrap_or_default();
        let split = Self::split_name(&summary.split);
        if split == "train" {
            self.train_seconds = seconds;
            if seconds > 0.0 {
                self.current.insert(
                    ("train".into(), "samples_per_s".into()),
                    self.train_items as f64 / seconds,
                );
            }
            self.current
                .insert(("train".into(), "seconds".into()), seconds);
            return;
        }
        // The valid split ends the epoch: record, print, persist.
        let epoch = summary.epoch_number;
        let line = self.epoch_line(epoch);
        let mut log = self.log.lock().expect("epoch log lock");
        log.rows.retain(|r| r.epoch != epoch);
        for ((split, metric), value) in std::mem::take(&mut self.current) {
            log.rows.push(MetricRow {
                epoch,
                split,
                metric,
                value,
            });
        }
        if let Err(e) = write_metrics_csv(&self.csv_path, &log.rows) {
            eprintln!("warning: cannot write {}: {e}", self.csv_path.display());
        }
        if self.print {
            println!("{line}  ({:.1} s)", self.train_seconds + seconds);
            let _ = std::io::stdout().flush();
        }
    }
}

/// Writes `epoch,split,metric,value` rows, sorted, through a temporary file.
pub fn write_metrics_csv(path: &Path, rows: &[MetricRow]) -> std::io::Result<()> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| (a.epoch, &a.split, &a.metric).cmp(&(b.epoch, &b.split, &b.metric)));
    let mut text = String::from("epoch,split,metric,value\n");
    for r in &rows {
        text.push_str(&format!(
            "{},{},{},{}\n",
            r.epoch, r.split, r.metric, r.value
        ));
    }
    let tmp = path.with_extension("csv.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// Reads a `metrics.csv` written by [`write_metrics_csv`] (for resume and plots).
pub fn read_metrics_csv(path: &Path) -> anyhow::Result<Vec<MetricRow>> {
    let text = std::fs::read_to_string(path)?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let parsed = (|| {
            Some(MetricRow {
                epoch: fields.first()?.parse().ok()?,
                split: fields.get(1)?.to_string(),
                metric: fields.get(2)?.to_string(),
                value: fields.get(3)?.parse().ok()?,
            })
        })();
        match parsed {
            Some(row) if fields.len() == 4 => rows.push(row),
            _ => anyhow::bail!(
                "{}: line {} is not 'epoch,split,metric,value'",
                path.display(),
                n + 1
            ),
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_keys_are_short_and_unambiguous() {
        assert_eq!(metric_key("Loss"), "loss");
        assert_eq!(metric_key("Accuracy"), "accuracy");
        assert_eq!(metric_key("Top-K Accuracy @ TopK(5)"), "top5_accuracy");
        assert_eq!(metric_key("FBetaScore (1) @ TopK(1) [Macro]"), "f1_macro");
    }

    #[test]
    fn csv_round_trip_and_plot() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<MetricRow> = (1..=3)
            .flat_map(|e| {
                ["train", "valid"].map(|s| MetricRow {
                    epoch: e,
                    split: s.into(),
                    metric: "loss".into(),
                    value: 1.0 / e as f64,
                })
            })
            .collect();
        let csv = dir.path().join("metrics.csv");
        write_metrics_csv(&csv, &rows).unwrap();
        let mut back = read_metrics_csv(&csv).unwrap();
        back.sort_by(|a, b| (a.epoch, &a.split).cmp(&(b.epoch, &b.split)));
        assert_eq!(back, rows);
        let png = dir.path().join("loss.png");
        crate::plots::plot_metric(&rows, "loss", "loss", &png).unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
        std::fs::write(&csv, "epoch,split,metric,value\n1,train\n").unwrap();
        assert!(read_metrics_csv(&csv).is_err());
    }
}
