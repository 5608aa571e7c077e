//! Test-set evaluation: loss, accuracy, top-5, per-class and macro precision/recall/F1 from a
//! confusion matrix, and ROC/PR curves with their areas from the class probabilities, all from
//! one pass; [`Evaluation::write`] puts the matrix and curves on disk as CSV and pictures.

mod curves;
mod outputs;

pub use curves::{PrCurve, RocCurve, pr_curve, roc_curve};
pub use outputs::{ClassCurves, Evaluation};

use crate::classifier::ImageClassifier;
use crate::report::{ClassMetrics, TestMetrics};
use burn::data::dataloader::DataLoader;
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};
use datasets::ImageBatch;
use std::sync::Arc;

/// Runs `model` (in inference mode) over every batch of `loader`, whose classes are
/// `class_names`.
pub fn evaluate<M: ImageClassifier>(
    model: &M,
    loader: Arc<dyn DataLoader<ImageBatch>>,
    class_names: &[String],
) -> anyhow::Result<Evaluation> {
    let model = model.valid();
    let mut scores = ClassificationScores::named(class_names.to_vec());
    for batch in loader.iter() {
        let batch = batch.map_err(|e| anyhow::anyhow!("reading the test set: {e}"))?;
        scores.add(model.logits(batch.images), batch.targets)?;
    }
    scores.evaluation()
}

/// How an ensemble's members become one prediction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// The mean of the members' class probabilities.
    MeanProbability,
    /// The share of members voting for each class (a member votes for its top class); ties go
    /// to the higher mean probability.
    Vote,
}

/// Runs every member of an ensemble over `loader` in one pass: each member's metrics, and the
/// evaluation of their combination (its "logits" are the log of the combined probabilities).
pub fn evaluate_ensemble<M: ImageClassifier>(
    members: &[M],
    loader: Arc<dyn DataLoader<ImageBatch>>,
    class_names: &[String],
    combine: Combine,
) -> anyhow::Result<(Vec<TestMetrics>, Evaluation)> {
    anyhow::ensure!(!members.is_empty(), "an ensemble needs at least one member");
    let members: Vec<M> = members.iter().map(|m| m.valid()).collect();
    let named = || ClassificationScores::named(class_names.to_vec());
    let mut each: Vec<ClassificationScores> =
        members.iter().map(|_| named().counts_only()).collect();
    let mut ensemble = named();
    let n = members.len() as f64;
    for batch in loader.iter() {
        let batch = batch.map_err(|e| anyhow::anyhow!("reading the test set: {e}"))?;
        let mut mean_probability: Option<Tensor<2>> = None;
        let mut votes: Option<Tensor<2>> = None;
        for (member, scores) in members.iter().zip(&mut each) {
            let logits = member.logits(batch.images.clone()); // [batch, classes]
            scores.add(logits.clone(), batch.targets.clone())?;
            let probability = softmax(logits.clone(), 1).div_scalar(n);
            let top = logits.clone().max_dim(1); // [batch, 1]
            let vote = logits.sub(top).equal_elem(0.0).float().div_scalar(n);
            mean_probability = Some(match mean_probability {
                Some(sum) => sum + probability,
                None => probability,
            });
            votes = Some(match votes {
                Some(sum) => sum + vote,
                None => vote,
            });
        }
        let (mean_probability, votes) = (mean_probability.unwrap(), votes.unwrap());
        let combined = match combine {
            Combine::MeanProbability => mean_probability,
            // The mean probability, scaled far below one vote, only breaks ties.
            Combine::Vote => votes + mean_probability.mul_scalar(1e-3),
        };
        ensemble.add(combined.clamp_min(1e-12).log(), batch.targets)?;
    }
    let metrics = each
        .into_iter()
        .map(ClassificationScores::finish)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((metrics, ensemble.evaluation()?))
}

/// How many rows of `logits` `[n, classes]` have their largest value at `targets` `[n]`.
pub fn correct(logits: Tensor<2>, targets: Tensor<1, Int>) -> usize {
    let n = targets.dims()[0];
    let right = logits.argmax(1).reshape([n]).equal(targets).int().sum();
    right.into_scalar::<i64>() as usize
}

/// Accumulates loss, accuracy, top-5, a confusion matrix and (unless [`Self::counts_only`])
/// every sample's class probabilities over batches of logits, for the ROC and PR curves.
pub struct ClassificationScores {
    class_names: Vec<String>,
    confusion: Vec<usize>,
    loss_sum: f64,
    top5_hits: usize,
    samples: usize,
    /// `[samples, classes]` softmax outputs, row-major, when kept.
    probabilities: Option<Vec<f32>>,
    targets: Vec<usize>,
}

impl ClassificationScores {
    /// Classes named by their index; see [`Self::named`].
    pub fn new(num_classes: usize) -> Self {
        Self::named((0..num_classes).map(|c| c.to_string()).collect())
    }

    /// Classes named as the data set names them (the names label the pictures and tables).
    pub fn named(class_names: Vec<String>) -> Self {
        let k = class_names.len();
        Self {
            class_names,
            confusion: vec![0; k * k],
            loss_sum: 0.0,
            top5_hits: 0,
            samples: 0,
            probabilities: Some(Vec::new()),
            targets: Vec::new(),
        }
    }

    /// Keeps the counts only, no per-sample probabilities (no curves): for a language model's
    /// next-token "classes", where they would be large and mean little.
    pub fn counts_only(mut self) -> Self {
        self.probabilities = None;
        self
    }

    fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Adds `logits` `[n, classes]` against class indices `targets` `[n]`.
    pub fn add(&mut self, logits: Tensor<2>, targets: Tensor<1, Int>) -> anyhow::Result<()> {
        let [n, classes] = logits.dims();
        anyhow::ensure!(
            classes == self.num_classes(),
            "the model gives {classes} outputs but the data set has {} classes",
            self.num_classes()
        );
        let log_probs: Vec<f32> = log_softmax(logits, 1).into_data().try_to_vec()?;
        let targets: Vec<i64> = targets.into_data().convert::<i64>().try_to_vec()?;
        for (row, &target) in log_probs.chunks_exact(classes).zip(&targets) {
            let target = target as usize;
            self.loss_sum -= row[target] as f64;
            let predicted = argmax(row);
            self.confusion[target * classes + predicted] += 1;
            let better = row.iter().filter(|&&v| v > row[target]).count();
            if better < 5 {
                self.top5_hits += 1;
            }
            if let Some(p) = &mut self.probabilities {
                p.extend(row.iter().map(|v| v.exp()));
                self.targets.push(target);
            }
        }
        self.samples += n;
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<TestMetrics> {
        Ok(self.evaluation()?.metrics)
    }

    /// The metrics with what they were computed from: the confusion matrix and, when kept,
    /// the probabilities (for [`Evaluation::write`]).
    pub fn evaluation(self) -> anyhow::Result<Evaluation> {
        anyhow::ensure!(self.samples > 0, "nothing to evaluate: the split is empty");
        let mut metrics = metrics_from(
            &self.confusion,
            &self.class_names,
            self.loss_sum,
            self.top5_hits,
            self.samples,
        );
        let curves = self
            .probabilities
            .as_ref()
            .map(|p| ClassCurves::new(p, &self.targets, self.num_classes()));
        if let Some(curves) = &curves {
            metrics.roc_auc = curves.roc_auc();
            metrics.average_precision = curves.average_precision();
            for (row, c) in metrics.per_class.iter_mut().zip(&curves.classes) {
                row.roc_auc = c.roc.as_ref().map(|r| r.auc);
                row.average_precision = c.pr.as_ref().map(|r| r.average_precision);
            }
        }
        Ok(Evaluation {
            metrics,
            class_names: self.class_names,
            confusion: self.confusion,
            curves,
        })
    }
}

pub(crate) fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f32::MIN),
            |best, (i, &v)| if v > best.1 { (i, v) } else { best },
        )
        .0
}

fn metrics_from(
    confusion: &[usize],
    class_names: &[String],
    loss_sum: f64,
    top5_hits: usize,
    samples: usize,
) -> TestMetrics {
    let k = class_names.len();
    let correct: usize = (0..k).map(|c| confusion[c * k + c]).sum();
    let per_class: Vec<ClassMetrics> = class_names
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let tp = confusion[c * k + c] as f64;
            let predicted: usize = (0..k).map(|t| confusion[t * k + c]).sum();
            let support: usize = (0..k).map(|p| confusion[c * k + p]).sum();
            let ratio = |n: usize| if n > 0 { tp / n as f64 } else { 0.0 };
            let (p, r) = (ratio(predicted), ratio(support));
            let f1 = if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
            ClassMetrics {
                class: name.clone(),
                precision: 100.0 * p,
                recall: 100.0 * r,
                f1: 100.0 * f1,
                support,
                roc_auc: None,
                average_precision: None,
            }
        })
        .collect();
    let mean = |f: fn(&ClassMetrics) -> f64| per_class.iter().map(f).sum::<f64>() / k as f64;
    TestMetrics {
        samples,
        loss: loss_sum / samples as f64,
        accuracy: 100.0 * correct as f64 / samples as f64,
        top5_accuracy: (k > 5).then(|| 100.0 * top5_hits as f64 / samples as f64),
        precision_macro: mean(|c| c.precision),
        recall_macro: mean(|c| c.recall),
        f1_macro: mean(|c| c.f1),
        roc_auc: None,
        average_precision: None,
        per_class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_metrics_from_a_known_confusion_matrix() {
        // Rows: target; columns: prediction. Class 0: 3 right, 1 called 1; class 1: 2 right.
        let confusion = [3, 1, 0, 2];
        let names = ["a".to_string(), "b".to_string()];
        let m = metrics_from(&confusion, &names, 0.0, 6, 6);
        assert!((m.accuracy - 500.0 / 6.0).abs() < 1e-9);
        // precision: class 0 3/3, class 1 2/3; recall: 3/4, 2/2.
        assert!((m.precision_macro - 50.0 * (1.0 + 2.0 / 3.0)).abs() < 1e-9);
        assert!((m.recall_macro - 50.0 * (0.75 + 1.0)).abs() < 1e-9);
        assert!(m.top5_accuracy.is_none());
        // F1: class 0 = 2 * 1 * 0.75 / 1.75, class 1 = 2 * (2/3) * 1 / (5/3).
        assert!((m.per_class[0].f1 - 100.0 * 1.5 / 1.75).abs() < 1e-9);
        assert!((m.per_class[1].f1 - 80.0).abs() < 1e-9);
        assert_eq!([m.per_class[0].support, m.per_class[1].support], [4, 2]);
    }
}
