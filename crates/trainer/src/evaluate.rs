//! Test-set evaluation and prediction: loss, accuracy, top-5 and macro precision/recall/F1
//! from one pass, computed from a confusion matrix.

use crate::classifier::ImageClassifier;
use crate::report::TestMetrics;
use burn::data::dataloader::DataLoader;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use datasets::ImageBatch;
use std::sync::Arc;

/// Runs `model` (in inference mode) over every batch of `loader`.
pub fn evaluate<M: ImageClassifier>(
    model: &M,
    loader: Arc<dyn DataLoader<ImageBatch>>,
    num_classes: usize,
) -> anyhow::Result<TestMetrics> {
    let model = model.valid();
    let mut scores = ClassificationScores::new(num_classes);
    for batch in loader.iter() {
        let batch = batch.map_err(|e| anyhow::anyhow!("reading the test set: {e}"))?;
        scores.add(model.logits(batch.images), batch.targets)?;
    }
    scores.finish()
}

/// How many rows of `logits` `[n, classes]` have their largest value at `targets` `[n]`.
pub fn correct(logits: Tensor<2>, targets: Tensor<1, Int>) -> usize {
    let n = targets.dims()[0];
    let right = logits.argmax(1).reshape([n]).equal(targets).int().sum();
    right.into_scalar::<i64>() as usize
}

/// Accumulates loss, accuracy, top-5 and a confusion matrix over batches of logits.
pub struct ClassificationScores {
    num_classes: usize,
    confusion: Vec<usize>,
    loss_sum: f64,
    top5_hits: usize,
    samples: usize,
}

impl ClassificationScores {
    pub fn new(num_classes: usize) -> Self {
        Self {
            num_classes,
            confusion: vec![0; num_classes * num_classes],
            loss_sum: 0.0,
            top5_hits: 0,
            samples: 0,
        }
    }

    /// Adds `logits` `[n, classes]` against class indices `targets` `[n]`.
    pub fn add(&mut self, logits: Tensor<2>, targets: Tensor<1, Int>) -> anyhow::Result<()> {
        let [n, classes] = logits.dims();
        anyhow::ensure!(
            classes == self.num_classes,
            "the model gives {classes} outputs but the data set has {} classes",
            self.num_classes
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
        }
        self.samples += n;
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<TestMetrics> {
        anyhow::ensure!(self.samples > 0, "nothing to evaluate: the split is empty");
        Ok(metrics_from(
            &self.confusion,
            self.num_classes,
            self.loss_sum,
            self.top5_hits,
            self.samples,
        ))
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
    k: usize,
    loss_sum: f64,
    top5_hits: usize,
    samples: usize,
) -> TestMetrics {
    let correct: usize = (0..k).map(|c| confusion[c * k + c]).sum();
    let (mut precision, mut recall, mut f1) = (0.0, 0.0, 0.0);
    let mut f1_per_class = Vec::with_capacity(k);
    for c in 0..k {
        let tp = confusion[c * k + c] as f64;
        let predicted: usize = (0..k).map(|t| confusion[t * k + c]).sum();
        let actual: usize = (0..k).map(|p| confusion[c * k + p]).sum();
        let p = if predicted > 0 {
            tp / predicted as f64
        } else {
            0.0
        };
        let r = if actual > 0 { tp / actual as f64 } else { 0.0 };
        precision += p;
        recall += r;
        let class_f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        f1 += class_f1;
        f1_per_class.push(100.0 * class_f1);
    }
    TestMetrics {
        samples,
        loss: loss_sum / samples as f64,
        accuracy: 100.0 * correct as f64 / samples as f64,
        top5_accuracy: (k > 5).then(|| 100.0 * top5_hits as f64 / samples as f64),
        precision_macro: 100.0 * precision / k as f64,
        recall_macro: 100.0 * recall / k as f64,
        f1_macro: 100.0 * f1 / k as f64,
        f1_per_class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_metrics_from_a_known_confusion_matrix() {
        // Rows: target; columns: prediction. Class 0: 3 right, 1 called 1; class 1: 2 right.
        let confusion = [3, 1, 0, 2];
        let m = metrics_from(&confusion, 2, 0.0, 6, 6);
        assert!((m.accuracy - 500.0 / 6.0).abs() < 1e-9);
        // precision: class 0 3/3, class 1 2/3; recall: 3/4, 2/2.
        assert!((m.precision_macro - 50.0 * (1.0 + 2.0 / 3.0)).abs() < 1e-9);
        assert!((m.recall_macro - 50.0 * (0.75 + 1.0)).abs() < 1e-9);
        assert!(m.top5_accuracy.is_none());
        // F1: class 0 = 2 * 1 * 0.75 / 1.75, class 1 = 2 * (2/3) * 1 / (5/3).
        assert!((m.f1_per_class[0] - 100.0 * 1.5 / 1.75).abs() < 1e-9);
        assert!((m.f1_per_class[1] - 80.0).abs() < 1e-9);
    }
}
