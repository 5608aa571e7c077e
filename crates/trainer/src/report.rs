//! What a run leaves on disk: `metrics.csv` (one row per epoch, split and metric), one readable
//! line per epoch, curve PNGs, and `report.json`.

use burn::train::Interrupter;
use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

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

/// Draws `metric` per epoch for the train and valid splits into a PNG.
pub fn plot_metric(
    rows: &[MetricRow],
    metric: &str,
    title: &str,
    path: &Path,
) -> anyhow::Result<()> {
    use plotters::prelude::*;
    register_font();
    type Series<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);
    let series: Vec<Series> = [("train", BLUE), ("valid", RED)]
        .into_iter()
        .map(|(split, color)| {
            let mut points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.split == split && r.metric == metric)
                .map(|r| (r.epoch as f64, r.value))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (split, points, color)
        })
        .filter(|(_, points, _)| !points.is_empty())
        .collect();
    if series.is_empty() {
        return Ok(());
    }
    let all = series.iter().flat_map(|(_, p, _)| p.iter());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    let pad = ((y_max - y_min) * 0.1).max(1e-3);
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.5f64..x_max + 0.5, (y_min - pad)..(y_max + pad))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels((x_max as usize).min(20))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc(metric)
        .draw()?;
    for (split, points, color) in series {
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(split)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn register_font() {
    static FONT: std::sync::Once = std::sync::Once::new();
    FONT.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            include_bytes!("../assets/DejaVuSansMono.ttf"),
        );
    });
}

/// Draws a `[rows, cols]` matrix of values in [0, 1] (row-major) as a heatmap PNG: white for 0,
/// dark blue for 1, `row_labels` down the left, `col_labels` along the bottom (written
/// vertically), the value in each cell when the grid is small enough to read it.
pub fn plot_heatmap(
    values: &[f32],
    row_labels: &[String],
    col_labels: &[String],
    title: &str,
    path: &Path,
) -> anyhow::Result<()> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let (rows, cols) = (row_labels.len(), col_labels.len());
    anyhow::ensure!(
        rows > 0 && cols > 0 && values.len() == rows * cols,
        "heatmap: {} values for {rows} × {cols} labels",
        values.len()
    );
    register_font();
    let cell = (640 / rows.max(cols)).clamp(12, 48) as i32;
    let label_width = 12
        + 9 * row_labels
            .iter()
            .chain(col_labels)
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(1) as i32;
    let (left, top) = (label_width, 44);
    let width = (left + cell * cols as i32 + 20) as u32;
    let height = (top + cell * rows as i32 + label_width) as u32;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    root.draw_text(
        title,
        &("sans-serif", 18).into_font().color(&BLACK),
        (10, 12),
    )?;
    let label = ("sans-serif", 14).into_font().color(&BLACK);
    for r in 0..rows {
        for c in 0..cols {
            let v = values[r * cols + c].clamp(0.0, 1.0) as f64;
            let shade = |full: f64| (255.0 - v * (255.0 - full)) as u8;
            let (x, y) = (left + c as i32 * cell, top + r as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                RGBColor(shade(8.0), shade(48.0), shade(107.0)).filled(),
            ))?;
            if cell >= 34 {
                let ink = if v > 0.5 { &WHITE } else { &BLACK };
                let style = ("sans-serif", 10)
                    .into_font()
                    .color(ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                root.draw_text(&format!("{v:.2}"), &style, (x + cell / 2, y + cell / 2))?;
            }
        }
        let style = label.clone().pos(Pos::new(HPos::Right, VPos::Center));
        root.draw_text(
            &row_labels[r],
            &style,
            (left - 6, top + r as i32 * cell + cell / 2),
        )?;
    }
    let vertical = ("sans-serif", 14)
        .into_font()
        .transform(FontTransform::Rotate90)
        .color(&BLACK);
    for (c, text) in col_labels.iter().enumerate() {
        let x = left + c as i32 * cell + cell / 2 + 5;
        root.draw_text(text, &vertical, (x, top + rows as i32 * cell + 6))?;
    }
    root.present()?;
    Ok(())
}

/// Projects `rows` (`[n, dim]`, row-major) onto their first two principal components:
/// centred, then the top eigenvectors of the covariance by power iteration with deflation.
pub fn pca_2d(rows: &[f32], dim: usize) -> Vec<[f64; 2]> {
    let n = rows.len() / dim.max(1);
    if n == 0 || dim == 0 {
        return Vec::new();
    }
    let mut mean = vec![0f64; dim];
    for row in rows.chunks_exact(dim) {
        row.iter().zip(&mut mean).for_each(|(v, m)| *m += *v as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = vec![0f64; dim * dim];
    for row in rows.chunks_exact(dim) {
        let c: Vec<f64> = row.iter().zip(&mean).map(|(v, m)| *v as f64 - m).collect();
        for i in 0..dim {
            for j in 0..dim {
                cov[i * dim + j] += c[i] * c[j];
            }
        }
    }
    let mut components: Vec<Vec<f64>> = Vec::new();
    for k in 0..2.min(dim) {
        // A fixed, non-symmetric start vector keeps the result deterministic.
        let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + (i + k) as f64 * 0.01).collect();
        for _ in 0..500 {
            let mut w: Vec<f64> = (0..dim)
                .map(|i| (0..dim).map(|j| cov[i * dim + j] * v[j]).sum())
                .collect();
            for c in &components {
                let dot: f64 = w.iter().zip(c).map(|(a, b)| a * b).sum();
                w.iter_mut().zip(c).for_each(|(a, b)| *a -= dot * b);
            }
            let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
            if norm < 1e-12 {
                break;
            }
            w.iter_mut().for_each(|a| *a /= norm);
            let change: f64 = w.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
            v = w;
            if change < 1e-10 {
                break;
            }
        }
        components.push(v);
    }
    while components.len() < 2 {
        components.push(vec![0.0; dim]);
    }
    rows.chunks_exact(dim)
        .map(|row| {
            let project = |c: &Vec<f64>| -> f64 {
                row.iter()
                    .zip(&mean)
                    .zip(c)
                    .map(|((v, m), w)| (*v as f64 - m) * w)
                    .sum()
            };
            [project(&components[0]), project(&components[1])]
        })
        .collect()
}

/// A scatter plot of 2-d points coloured by class, with a legend of `class_names`.
pub fn plot_scatter(
    points: &[[f64; 2]],
    classes: &[usize],
    class_names: &[String],
    title: &str,
    path: &Path,
) -> anyhow::Result<()> {
    use plotters::prelude::*;
    register_font();
    anyhow::ensure!(!points.is_empty(), "nothing to plot");
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in points {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    let (px, py) = (((x1 - x0) * 0.05).max(1e-6), ((y1 - y0) * 0.05).max(1e-6));
    let root = BitMapBackend::new(path, (900, 700)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))?;
    chart
        .configure_mesh()
        .x_desc("PC 1")
        .y_desc("PC 2")
        .draw()?;
    for (c, name) in class_names.iter().enumerate() {
        let color = Palette99::pick(c).to_rgba();
        chart
            .draw_series(
                points
                    .iter()
                    .zip(classes)
                    .filter(|(_, k)| **k == c)
                    .map(|(p, _)| Circle::new((p[0], p[1]), 3, color.filled())),
            )?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

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
    /// F1 of each class, percent, in class order.
    #[serde(default)]
    pub f1_per_class: Vec<f64>,
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
    pub test: TestMetrics,
    pub git_commit: Option<String>,
    pub burn_version: String,
    /// Peak resident memory of the process (Linux `VmHWM`), MiB.
    #[serde(default)]
    pub peak_rss_mib: Option<f64>,
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
    fn pca_finds_the_direction_of_largest_spread() {
        // Points along (1, 1, 0) with small noise on the third axis.
        let rows: Vec<f32> = (0..50)
            .flat_map(|i| {
                let t = i as f32 - 25.0;
                [t, t, if i % 2 == 0 { 0.1 } else { -0.1 }]
            })
            .collect();
        let projected = pca_2d(&rows, 3);
        assert_eq!(projected.len(), 50);
        let spread = |k: usize| projected.iter().map(|p| p[k] * p[k]).sum::<f64>();
        assert!(spread(0) > 1000.0 * spread(1));
        // The first component preserves distances along the line: |t - mean(t)| * sqrt(2).
        assert!((projected[0][0].abs() - 24.5 * 2f64.sqrt()).abs() < 1e-3);
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("scatter.png");
        let classes: Vec<usize> = (0..50).map(|i| i % 2).collect();
        plot_scatter(&projected, &classes, &["a".into(), "b".into()], "t", &png).unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
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
        plot_metric(&rows, "loss", "loss", &png).unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
        std::fs::write(&csv, "epoch,split,metric,value\n1,train\n").unwrap();
        assert!(read_metrics_csv(&csv).is_err());
    }
}
