//! The run driver: one lifecycle for every training loop in the zoo.
//!
//! A model supplies only what is its own through [`Training`]: one epoch of training, a
//! validation pass, what "keep the best model" means for it, and what its checkpoints hold.
//! [`fit`] owns the rest: resuming from the newest loadable checkpoint (and refusing a run that
//! already finished), the epoch loop, the non-finite-loss check, model selection, the
//! checkpoint policy (`--checkpoint-every`, the last two kept), early stopping, `metrics.csv`
//! and the per-epoch line. [`RunFolder`] (in `run_folder.rs`) is the run's folder:
//! `config.json`, the metric history, checkpoints, curves and `report.json`.
//!
//! Supervised image classifiers train through burn-train's `Learner` instead
//! (`crate::supervised`), with the same flags, folder layout, resume and divergence check.

pub use crate::flags::RunFlags;
pub use crate::parallel::Workers;
use crate::report::TestMetrics;
pub use crate::run_folder::{
    RunFolder, claim, default_out, load_module, load_optimizer, not_finished, save_module,
    save_optimizer, sync_running_state,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How the driver picks the model a run returns, and what counts as an improvement for
/// `--early-stop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Select {
    /// The epoch with the lowest validation loss.
    LowestLoss,
    /// The epoch with the highest validation score (accuracy, or whatever the model reports).
    HighestScore,
    /// The last epoch whose validation score and loss were both the best so far, as in the GAT
    /// authors' code; patience resets when either improves. Selecting on accuracy alone keeps
    /// lucky early epochs whose loss is still high.
    ScoreAndLoss,
    /// No selection: the last epoch's model is the result (generative models). Early stopping
    /// watches the validation loss.
    Last,
}

/// What one validation pass measured.
#[derive(Clone, Debug, Default)]
pub struct Validation {
    /// Lower is better.
    pub loss: f64,
    /// Higher is better (accuracy in percent for classifiers); [`Select::HighestScore`] and
    /// [`Select::ScoreAndLoss`] need it.
    pub score: Option<f64>,
    /// Appended to the epoch line, e.g. `valid loss 0.31 acc 91.2%`.
    pub summary: String,
}

impl Validation {
    /// A classifier's validation pass: records its loss, accuracy and macro F1 for `epoch` and
    /// selects on accuracy.
    pub fn of_classifier(run: &mut RunFolder, epoch: usize, metrics: &TestMetrics) -> Self {
        run.record(epoch, "valid", "loss", metrics.loss);
        run.record(epoch, "valid", "accuracy", metrics.accuracy);
        run.record(epoch, "valid", "f1_macro", metrics.f1_macro);
        Self {
            loss: metrics.loss,
            score: Some(metrics.accuracy),
            summary: format!(
                "valid loss {:.4} acc {:.2}% F1 {:.2}",
                metrics.loss, metrics.accuracy, metrics.f1_macro
            ),
        }
    }
}

/// What one training epoch measured.
#[derive(Clone, Debug, Default)]
pub struct EpochResult {
    /// The epoch's mean training loss; the driver stops the run when it is not finite.
    pub loss: f64,
    /// The start of the epoch line, e.g. `train loss 0.42 acc 88.1%`.
    pub summary: String,
}

impl EpochResult {
    /// A classifier's training epoch: records its mean loss and accuracy for `epoch`.
    pub fn of_classifier(run: &mut RunFolder, epoch: usize, loss: f64, accuracy: f64) -> Self {
        run.record(epoch, "train", "loss", loss);
        run.record(epoch, "train", "accuracy", accuracy);
        Self {
            loss,
            summary: format!("train loss {loss:.4} acc {accuracy:.2}%"),
        }
    }
}

/// The driver's part of a checkpoint's `state.json`: model selection and patience.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Selection {
    /// 0 until the first validation.
    pub best_epoch: usize,
    /// Validation score and loss of the kept epoch (the score is NaN for a model without one).
    #[serde(with = "nan_as_null")]
    pub best_score: f64,
    #[serde(with = "nan_as_null")]
    pub best_loss: f64,
    /// Best validation score and loss seen, each on its own.
    #[serde(with = "nan_as_null")]
    pub max_score: f64,
    #[serde(with = "nan_as_null")]
    pub min_loss: f64,
    pub epochs_without_improvement: usize,
}

/// JSON has no NaN: it is written as `null` and read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            serializer.serialize_f64(*value)
        } else {
            serializer.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
    }
}

impl Selection {
    /// Records a validation result; true when this epoch's model is to be kept.
    pub fn update(&mut self, rule: Select, epoch: usize, valid: &Validation) -> bool {
        let first = self.best_epoch == 0;
        let score = valid.score.unwrap_or(f64::NAN);
        let loss = valid.loss;
        let (improved, keep) = match rule {
            Select::LowestLoss => {
                let better = first || loss < self.best_loss;
                (better, better)
            }
            // Ties in score go to the lower loss.
            Select::HighestScore => {
                let better = first
                    || score > self.best_score
                    || (score == self.best_score && loss < self.best_loss);
                (better, better)
            }
            Select::ScoreAndLoss => {
                let score_best = first || score >= self.max_score;
                let loss_best = first || loss <= self.min_loss;
                (score_best || loss_best, score_best && loss_best)
            }
            Select::Last => (first || loss < self.min_loss, true),
        };
        if first || score > self.max_score {
            self.max_score = score;
        }
        if first || loss < self.min_loss {
            self.min_loss = loss;
        }
        self.epochs_without_improvement = if improved {
            0
        } else {
            self.epochs_without_improvement + 1
        };
        if keep {
            self.best_epoch = epoch;
            self.best_score = score;
            self.best_loss = loss;
        }
        keep
    }
}

/// A checkpoint's `state.json`: the driver's selection and the model's own state.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CheckpointState<S> {
    selection: Selection,
    model: S,
}

/// Training stopped because the loss stopped being a finite number.
#[derive(Debug, thiserror::Error)]
#[error(
    "training diverged: the {what} is {value} at epoch {epoch}{}. {} Lower --lr (or clip \
     gradients with --grad-clip where the model takes it) and train again.",
    .step.map(|s| format!(", step {s}")).unwrap_or_default(),
    .last_good.as_ref().map(|(e, dir)| format!("The newest checkpoint ({}, epoch {e}) predates it and no final model.bpk was written.", dir.display())).unwrap_or_else(|| "No checkpoint and no model.bpk were written.".into())
)]
pub struct Diverged {
    /// "training loss" or "validation loss".
    pub what: &'static str,
    pub epoch: usize,
    /// The step within the epoch, when the loop checks every step.
    pub step: Option<usize>,
    pub value: f64,
    /// The newest complete checkpoint, if any: epoch and folder.
    pub last_good: Option<(usize, PathBuf)>,
}

/// Fails with [`Diverged`] when `loss` is not finite; loops that log every step call this on
/// each step's loss so a run stops where it diverged, not at the end of the epoch.
pub fn check_finite(
    run: &RunFolder,
    loss: f64,
    epoch: usize,
    step: Option<usize>,
) -> Result<(), Diverged> {
    if loss.is_finite() {
        return Ok(());
    }
    Err(Diverged {
        what: "training loss",
        epoch,
        step,
        value: loss,
        last_good: run.checkpoints().into_iter().next(),
    })
}

/// What a model brings to [`fit`]. Everything else about a run is the driver's.
pub trait Training {
    /// The model's own checkpoint state beside its modules (an LM's position in the text, a
    /// GAN's FID history); `()` when the modules are all.
    type State: Serialize + DeserializeOwned;

    /// Trains one epoch (records its metrics with `run.record(epoch, "train", …)`).
    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult>;

    /// Validates the current model (records with `run.record(epoch, "valid", …)`); `None` when
    /// the run has no validation data.
    fn validate(&mut self, epoch: usize, run: &mut RunFolder)
    -> anyhow::Result<Option<Validation>>;

    /// Keeps the current model as the best so far (called when selection says so).
    fn keep_best(&mut self) {}

    /// Writes the modules and optimizers of a checkpoint into `dir`.
    fn save(&self, dir: &Path) -> anyhow::Result<()>;

    /// The model's own part of `state.json`.
    fn state(&self) -> Self::State;

    /// Restores a checkpoint written by [`save`](Self::save). It must leave `self` unchanged
    /// when it fails, since the driver then tries an older checkpoint.
    fn load(&mut self, dir: &Path, state: Self::State) -> anyhow::Result<()>;
}

/// The driver's settings for one run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub epochs: usize,
    pub resume: bool,
    pub checkpoint_every: usize,
    pub early_stop: Option<usize>,
    pub select: Select,
}

impl Plan {
    /// The plan the common flags give, with the model's selection rule and default patience.
    pub fn new(epochs: usize, flags: &RunFlags, select: Select, early_stop: Option<usize>) -> Self {
        Self {
            epochs,
            resume: flags.resume,
            checkpoint_every: flags.checkpoint_every.max(1),
            early_stop: flags.early_stop.or(early_stop),
            select,
        }
    }
}

/// How a [`fit`] went.
#[derive(Clone, Debug, Default)]
pub struct Fitted {
    /// The epoch the run resumed from (0 for a new run).
    pub start: usize,
    /// The last epoch trained.
    pub last_epoch: usize,
    /// The epoch of the kept model (the last epoch under [`Select::Last`], or without validation).
    pub best_epoch: usize,
    pub stopped_early: bool,
    /// Seconds of training in this process.
    pub wall_seconds: f64,
}

/// Runs the epoch loop of `plan` on `training` in `run`: resume, train, validate, select,
/// checkpoint, stop early; fails with [`Diverged`] when the loss stops being finite.
pub fn fit<T: Training>(
    run: &mut RunFolder,
    plan: &Plan,
    training: &mut T,
) -> anyhow::Result<Fitted> {
    anyhow::ensure!(plan.epochs > 0, "--epochs must be at least 1");
    let mut selection = Selection::default();
    let mut start = 0;
    if plan.resume {
        let (epoch, restored) = run.resume(|dir, state: CheckpointState<T::State>| {
            training.load(dir, state.model)?;
            Ok(state.selection)
        })?;
        not_finished(&run.dir, epoch, plan.epochs)?;
        selection = restored;
        start = epoch;
    }
    run.total_epochs = plan.epochs;
    let started = Instant::now();
    let mut fitted = Fitted {
        start,
        last_epoch: start,
        best_epoch: selection.best_epoch,
        ..Fitted::default()
    };
    for epoch in start + 1..=plan.epochs {
        let trained = training.train_epoch(epoch, run)?;
        check_finite(run, trained.loss, epoch, None)?;
        let mut line = trained.summary;
        let keep = match training.validate(epoch, run)? {
            Some(valid) if !valid.loss.is_finite() => {
                return Err(Diverged {
                    what: "validation loss",
                    ..check_finite(run, valid.loss, epoch, None).unwrap_err()
                }
                .into());
            }
            Some(valid) => {
                if !valid.summary.is_empty() {
                    line.push_str("  ");
                    line.push_str(&valid.summary);
                }
                selection.update(plan.select, epoch, &valid)
            }
            None => {
                selection.best_epoch = epoch;
                true
            }
        };
        if keep {
            training.keep_best();
        }
        if epoch.is_multiple_of(plan.checkpoint_every) || epoch == plan.epochs {
            let state = CheckpointState {
                selection: selection.clone(),
                model: training.state(),
            };
            run.save_checkpoint(epoch, &state, |dir| training.save(dir))?;
        }
        run.finish_epoch(epoch, &line)?;
        fitted.last_epoch = epoch;
        if let Some(patience) = plan.early_stop
            && selection.epochs_without_improvement >= patience
        {
            println!(
                "early stop at epoch {epoch}: no better validation result for {patience} epochs"
            );
            fitted.stopped_early = true;
            break;
        }
    }
    fitted.best_epoch = if plan.select == Select::Last {
        fitted.last_epoch
    } else {
        selection.best_epoch
    };
    fitted.wall_seconds = started.elapsed().as_secs_f64();
    Ok(fitted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::prelude::*;

    fn valid(loss: f64, score: f64) -> Validation {
        Validation {
            loss,
            score: (!score.is_nan()).then_some(score),
            summary: String::new(),
        }
    }

    #[test]
    fn score_and_loss_keeps_epochs_best_in_both_and_counts_patience() {
        let mut s = Selection::default();
        let rule = Select::ScoreAndLoss;
        assert!(s.update(rule, 1, &valid(1.5, 50.0)));
        assert!(
            !s.update(rule, 2, &valid(1.6, 60.0)),
            "score up but loss up: not kept"
        );
        assert_eq!(s.epochs_without_improvement, 0, "the score improved");
        assert!(!s.update(rule, 3, &valid(1.55, 55.0)));
        assert_eq!(s.epochs_without_improvement, 1);
        assert!(s.update(rule, 4, &valid(1.4, 60.0)), "both at their best");
        assert_eq!((s.best_epoch, s.epochs_without_improvement), (4, 0));
    }

    #[test]
    fn highest_score_breaks_ties_on_loss_and_lowest_loss_ignores_score() {
        let mut s = Selection::default();
        assert!(s.update(Select::HighestScore, 1, &valid(0.5, 90.0)));
        assert!(!s.update(Select::HighestScore, 2, &valid(0.6, 90.0)));
        assert!(
            s.update(Select::HighestScore, 3, &valid(0.4, 90.0)),
            "same score, lower loss"
        );
        assert!(!s.update(Select::HighestScore, 4, &valid(0.1, 80.0)));
        assert_eq!((s.best_epoch, s.epochs_without_improvement), (3, 1));

        let mut s = Selection::default();
        assert!(s.update(Select::LowestLoss, 1, &valid(0.5, 10.0)));
        assert!(!s.update(Select::LowestLoss, 2, &valid(0.6, 99.0)));
        assert!(s.update(Select::LowestLoss, 3, &valid(0.4, 0.0)));
        let mut s = Selection::default();
        assert!(s.update(Select::Last, 1, &valid(0.5, 0.0)));
        assert!(
            s.update(Select::Last, 2, &valid(0.9, 0.0)),
            "the last epoch is always kept"
        );
        assert_eq!(
            s.epochs_without_improvement, 1,
            "patience still watches the loss"
        );
    }

    /// A loop whose loss turns NaN at epoch 3: the driver stops there, names the epoch, and
    /// leaves epoch 2's checkpoint as the newest.
    struct Diverging(Linear);

    impl Training for Diverging {
        type State = ();
        fn train_epoch(
            &mut self,
            epoch: usize,
            run: &mut RunFolder,
        ) -> anyhow::Result<EpochResult> {
            let loss = if epoch >= 3 {
                f64::NAN
            } else {
                1.0 / epoch as f64
            };
            run.record(epoch, "train", "loss", loss);
            Ok(EpochResult {
                loss,
                summary: String::new(),
            })
        }
        fn validate(&mut self, _: usize, _: &mut RunFolder) -> anyhow::Result<Option<Validation>> {
            Ok(None)
        }
        fn save(&self, dir: &Path) -> anyhow::Result<()> {
            save_module(&self.0, dir, "model")
        }
        fn state(&self) {}
        fn load(&mut self, dir: &Path, (): ()) -> anyhow::Result<()> {
            self.0 = load_module(self.0.clone(), dir, "model")?;
            Ok(())
        }
    }

    #[test]
    fn a_non_finite_loss_stops_the_run_at_its_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let mut run = RunFolder::open(dir.path(), 5, false, &"config").unwrap();
        let plan = Plan {
            epochs: 5,
            resume: false,
            checkpoint_every: 1,
            early_stop: None,
            select: Select::Last,
        };
        let model = LinearConfig::new(2, 2).init(&Device::flex());
        let err = fit(&mut run, &plan, &mut Diverging(model)).unwrap_err();
        let diverged = err.downcast_ref::<Diverged>().expect("a Diverged error");
        assert_eq!(
            (diverged.epoch, diverged.last_good.as_ref().map(|c| c.0)),
            (3, Some(2))
        );
        let text = err.to_string();
        assert!(
            text.contains("epoch 3") && text.contains("--lr") && text.contains("--grad-clip"),
            "{text}"
        );
        assert_eq!(run.checkpoints()[0].0, 2);
    }
}
