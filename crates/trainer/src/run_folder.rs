//! A run's folder: `config.json`, `metrics.csv` and the per-epoch line, checkpoints, curves
//! and `report.json`; and saving and loading the modules and optimizers in it.
//!
//! A checkpoint is a folder `checkpoint/epoch-N/` holding whatever the model saves (modules,
//! optimizers) and a `state.json`. It is written under a temporary name and renamed into place
//! when complete, so a run killed mid-write leaves the previous checkpoint intact; the newest
//! two are kept.

use crate::metrics::{MetricRow, read_metrics_csv, write_metrics_csv};
use crate::plots::plot_metric;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn utc_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `models/<name>/runs/<timestamp>` inside a checkout, else `runs/<name>/<timestamp>`.
pub fn default_out(name: &str) -> PathBuf {
    let in_checkout = Path::new("models").join(name);
    let base = if in_checkout.is_dir() {
        in_checkout.join("runs")
    } else {
        Path::new("runs").join(name)
    };
    base.join(utc_timestamp())
}

/// Creates the run folder `dir`, refusing one that already holds a run unless `resume`.
pub fn claim(dir: &Path, resume: bool) -> anyhow::Result<()> {
    if !resume && dir.join("checkpoint").is_dir() {
        anyhow::bail!(
            "--out {} already holds a run: add --resume to continue it, or choose another --out",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create --out {}: {e}", dir.display()))
}

/// Refuses to resume a run that has already trained its `epochs`.
pub fn not_finished(dir: &Path, resumed_at: usize, epochs: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        resumed_at < epochs,
        "--resume: the run in {} already finished {resumed_at} of {epochs} epochs; pass a larger --epochs to continue",
        dir.display()
    );
    Ok(())
}

/// One run's folder: its config, metric history and checkpoints.
pub struct RunFolder {
    pub dir: PathBuf,
    rows: Vec<MetricRow>,
    pub(crate) total_epochs: usize,
    started: Instant,
    epoch_started: Instant,
    /// Print the epoch line every this many epochs (and on the first and last).
    pub print_every: usize,
}

impl RunFolder {
    /// Opens `dir` for a new run (refusing a folder that already holds checkpoints unless
    /// `resume`) and writes `config` as `config.json`. The run driver trains on one device:
    /// `--devices` with several is refused here, before anything is written.
    pub fn open(
        dir: &Path,
        total_epochs: usize,
        resume: bool,
        config: &impl Serialize,
    ) -> anyhow::Result<Self> {
        claim(dir, resume)?;
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_string_pretty(config)?,
        )?;
        Ok(Self {
            dir: dir.to_path_buf(),
            rows: Vec::new(),
            total_epochs,
            started: Instant::now(),
            epoch_started: Instant::now(),
            print_every: 1,
        })
    }

    /// Reads a saved run config (a run's `config.json`).
    pub fn read_config<C: DeserializeOwned>(path: &Path) -> anyhow::Result<C> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a config of this model: {e}", path.display()))
    }

    pub fn record(&mut self, epoch: usize, split: &str, metric: &str, value: f64) {
        self.rows.push(MetricRow {
            epoch,
            split: split.into(),
            metric: metric.into(),
            value,
        });
    }

    pub fn value(&self, epoch: usize, split: &str, metric: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.epoch == epoch && r.split == split && r.metric == metric)
            .map(|r| r.value)
    }

    pub fn rows(&self) -> &[MetricRow] {
        &self.rows
    }

    /// Median wall time of the epochs after `after` (those this process trained), 0 if none.
    pub fn median_epoch_seconds(&self, after: usize) -> f64 {
        let mut seconds: Vec<f64> = self
            .rows
            .iter()
            .filter(|r| r.metric == "epoch_seconds" && r.epoch > after)
            .map(|r| r.value)
            .collect();
        seconds.sort_by(f64::total_cmp);
        seconds.get(seconds.len() / 2).copied().unwrap_or(0.0)
    }

    /// Seconds since the run (or its resumption) started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Rewrites `metrics.csv` and prints `epoch N/T  <summary>  (seconds)` when due.
    pub fn finish_epoch(&mut self, epoch: usize, summary: &str) -> anyhow::Result<()> {
        let seconds = self.epoch_started.elapsed().as_secs_f64();
        self.record(epoch, "train", "epoch_seconds", seconds);
        self.epoch_started = Instant::now();
        let csv = self.dir.join("metrics.csv");
        write_metrics_csv(&csv, &self.rows)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", csv.display()))?;
        let every = self.print_every.max(1);
        if epoch == 1 || epoch.is_multiple_of(every) || epoch == self.total_epochs {
            println!(
                "epoch {epoch}/{}  {summary}  ({:.1} s)",
                self.total_epochs,
                self.elapsed()
            );
            let _ = std::io::stdout().flush();
        }
        Ok(())
    }

    fn checkpoint_root(&self) -> PathBuf {
        self.dir.join("checkpoint")
    }

    /// Complete checkpoints, newest first.
    pub fn checkpoints(&self) -> Vec<(usize, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(self.checkpoint_root()) else {
            return Vec::new();
        };
        let mut found: Vec<(usize, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let epoch = name.strip_prefix("epoch-")?.parse().ok()?;
                e.path()
                    .join("state.json")
                    .is_file()
                    .then(|| (epoch, e.path()))
            })
            .collect();
        found.sort_by_key(|c| std::cmp::Reverse(c.0));
        found
    }

    /// Saves checkpoint `epoch`: `write` fills the folder, then `state` goes to `state.json`
    /// and the folder is renamed into place. Older checkpoints beyond the newest two are removed.
    pub fn save_checkpoint(
        &self,
        epoch: usize,
        state: &impl Serialize,
        write: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let root = self.checkpoint_root();
        let partial = root.join(format!(".epoch-{epoch}.partial"));
        let done = root.join(format!("epoch-{epoch}"));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", partial.display()))?;
        write(&partial)?;
        std::fs::write(
            partial.join("state.json"),
            serde_json::to_string_pretty(state)?,
        )?;
        let _ = std::fs::remove_dir_all(&done);
        std::fs::rename(&partial, &done)
            .map_err(|e| anyhow::anyhow!("cannot move {} into place: {e}", done.display()))?;
        for (_, old) in self.checkpoints().into_iter().skip(2) {
            let _ = std::fs::remove_dir_all(old);
        }
        Ok(())
    }

    /// Restores the newest checkpoint that `load` accepts: `load` gets the folder and its
    /// state. The metric history is cut back to that epoch. Broken newer checkpoints are
    /// reported and skipped; none at all is an error saying what was found.
    pub fn resume<S: DeserializeOwned, T>(
        &mut self,
        mut load: impl FnMut(&Path, S) -> anyhow::Result<T>,
    ) -> anyhow::Result<(usize, T)> {
        let mut problems = Vec::new();
        for (epoch, dir) in self.checkpoints() {
            let attempt = (|| {
                let path = dir.join("state.json");
                let text = std::fs::read_to_string(&path)?;
                let state: S = serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                load(&dir, state)
            })();
            match attempt {
                Ok(value) => {
                    for p in &problems {
                        eprintln!("warning: skipping a broken checkpoint: {p}");
                    }
                    let csv = self.dir.join("metrics.csv");
                    if csv.is_file() {
                        self.rows = read_metrics_csv(&csv)?;
                        self.rows.retain(|r| r.epoch <= epoch);
                    }
                    println!("resuming {} from epoch {epoch}", self.dir.display());
                    return Ok((epoch, value));
                }
                Err(e) => problems.push(format!("{}: {e:#}", dir.display())),
            }
        }
        if problems.is_empty() {
            anyhow::bail!(
                "--resume: no complete checkpoint in {} (expected epoch-N/ folders with a \
                 state.json); start a new run without --resume",
                self.checkpoint_root().display()
            )
        }
        anyhow::bail!(
            "--resume: every checkpoint in {} is unreadable:\n  {}\nDelete the folder and start again",
            self.checkpoint_root().display(),
            problems.join("\n  ")
        )
    }

    /// Draws `metric` (train and valid) to `<metric>.png`; failures are warnings.
    pub fn plot(&self, title: &str, metric: &str) {
        let png = self.dir.join(format!("{metric}.png"));
        if let Err(e) = plot_metric(&self.rows, metric, title, &png) {
            eprintln!("warning: cannot draw {}: {e}", png.display());
        }
    }

    /// Writes `value` as pretty JSON to `<dir>/<name>`.
    pub fn write_json(&self, name: &str, value: &impl Serialize) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(value)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    }
}

/// Saves `module` as `<dir>/<name>.bpk`, running statistics (batch norm) included.
pub fn save_module<M: Module>(module: &M, dir: &Path, name: &str) -> anyhow::Result<()> {
    let path = dir.join(name);
    sync_running_state(module)
        .save_file(&path)
        .map_err(|e| anyhow::anyhow!("cannot write {}.bpk: {e}", path.display()))
}

/// `module` with its running statistics brought up to date. Burn's `RunningState` (batch
/// norm's running mean and variance) keeps the newest update per thread apart until something
/// reads it through `valid()`; saving reads the stored value directly, so without this a saved
/// model lacks the last training step's statistics and evaluates differently after reloading.
pub fn sync_running_state<M: Module>(module: &M) -> M {
    // `valid()` merges the pending updates into the state the two copies share.
    let _ = module.valid();
    module.clone()
}

/// Loads `<dir>/<name>.bpk` into `module`; the error names the file.
pub fn load_module<M: Module>(module: M, dir: &Path, name: &str) -> anyhow::Result<M> {
    let path = dir.join(format!("{name}.bpk"));
    module
        .try_load_file(&path)
        .map_err(|e| anyhow::anyhow!("{}: does not load into this model: {e}", path.display()))
}

/// Saves an optimizer's state as `<dir>/<name>.bpk`.
pub fn save_optimizer(optim: &ModuleOptimizer, dir: &Path, name: &str) -> anyhow::Result<()> {
    let path = dir.join(format!("{name}.bpk"));
    optim
        .save(&path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Loads an optimizer's state from `<dir>/<name>.bpk`.
pub fn load_optimizer(
    optim: ModuleOptimizer,
    dir: &Path,
    name: &str,
) -> anyhow::Result<ModuleOptimizer> {
    let path = dir.join(format!("{name}.bpk"));
    optim
        .load(&path)
        .map_err(|e| anyhow::anyhow!("{}: not an optimizer state: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::prelude::*;

    #[test]
    fn checkpoints_rotate_and_resume_skips_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::flex();
        let model: Linear = LinearConfig::new(3, 2).init(&device);
        let mut run = RunFolder::open(dir.path(), 5, false, &"config").unwrap();
        for epoch in 1..=4 {
            run.record(epoch, "train", "loss", 1.0 / epoch as f64);
            run.finish_epoch(epoch, "").unwrap();
            run.save_checkpoint(epoch, &epoch, |d| save_module(&model, d, "model"))
                .unwrap();
        }
        let epochs: Vec<usize> = run.checkpoints().iter().map(|c| c.0).collect();
        assert_eq!(epochs, [4, 3]);
        assert!(RunFolder::open(dir.path(), 5, false, &"config").is_err());

        // Corrupt the newest: resume falls back to epoch 3 and cuts the history there.
        std::fs::write(dir.path().join("checkpoint/epoch-4/model.bpk"), b"junk").unwrap();
        let mut resumed = RunFolder::open(dir.path(), 5, true, &"config").unwrap();
        let (epoch, state) = resumed
            .resume(|d, state: usize| {
                load_module(model.clone(), d, "model")?;
                Ok(state)
            })
            .unwrap();
        assert_eq!((epoch, state), (3, 3));
        assert_eq!(resumed.rows().iter().map(|r| r.epoch).max(), Some(3));

        std::fs::write(dir.path().join("checkpoint/epoch-3/model.bpk"), b"junk").unwrap();
        let err = resumed
            .resume(|d, _: usize| load_module(model.clone(), d, "model"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("every checkpoint") && err.contains("model.bpk"),
            "{err}"
        );
    }
}
