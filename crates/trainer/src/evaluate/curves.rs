//! ROC and precision-recall curves of one class's scores, with the areas under them: what
//! scikit-learn's `roc_curve`, `roc_auc_score`, `precision_recall_curve` and
//! `average_precision_score` compute, for the same inputs (see `scripts/parity/curves.py`).

/// Counts at each distinct score, from the highest down: the samples scored at or above it.
struct Thresholds {
    /// The distinct scores, descending.
    scores: Vec<f32>,
    /// False and true positives among the samples scored at or above each threshold.
    false_positives: Vec<f64>,
    true_positives: Vec<f64>,
}

fn thresholds(scores: &[f32], positive: &[bool]) -> Thresholds {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut t = Thresholds {
        scores: Vec::new(),
        false_positives: Vec::new(),
        true_positives: Vec::new(),
    };
    let (mut fp, mut tp) = (0.0, 0.0);
    for (rank, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        // Tied scores form one threshold: record the counts after the last of them.
        let last_of_tie = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_tie {
            t.scores.push(scores[i]);
            t.false_positives.push(fp);
            t.true_positives.push(tp);
        }
    }
    t
}

/// A ROC curve: false positive rate against true positive rate, from (0, 0) to (1, 1).
#[derive(Clone, Debug, PartialEq)]
pub struct RocCurve {
    pub false_positive_rate: Vec<f64>,
    pub true_positive_rate: Vec<f64>,
    /// The score at or above which a sample is called positive at each point (`inf` first).
    pub thresholds: Vec<f32>,
    /// Area under the curve (trapezoids): the chance that a random positive scores above a
    /// random negative, ties counting half.
    pub auc: f64,
}

/// The ROC curve of `scores` for the samples marked `positive`; `None` when either class is
/// absent (the rates are undefined). Points on a straight segment are dropped, as
/// scikit-learn's `drop_intermediate` does; the area does not change.
pub fn roc_curve(scores: &[f32], positive: &[bool]) -> Option<RocCurve> {
    assert_eq!(scores.len(), positive.len(), "one label per score");
    let t = thresholds(scores, positive);
    let positives = *t.true_positives.last()?;
    let negatives = *t.false_positives.last()?;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let mut fps = vec![0.0];
    let mut tps = vec![0.0];
    let mut cuts = vec![f32::INFINITY];
    fps.extend(&t.false_positives);
    tps.extend(&t.true_positives);
    cuts.extend(&t.scores);
    // Keep a point where the curve turns: where the second difference of either count is
    // non-zero, and both ends.
    let n = fps.len();
    let keep: Vec<usize> = (0..n)
        .filter(|&i| {
            i == 0
                || i == n - 1
                || fps[i + 1] - 2.0 * fps[i] + fps[i - 1] != 0.0
                || tps[i + 1] - 2.0 * tps[i] + tps[i - 1] != 0.0
        })
        .collect();
    let fpr: Vec<f64> = keep.iter().map(|&i| fps[i] / negatives).collect();
    let tpr: Vec<f64> = keep.iter().map(|&i| tps[i] / positives).collect();
    let auc = fpr
        .windows(2)
        .zip(tpr.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
        .sum();
    Some(RocCurve {
        false_positive_rate: fpr,
        true_positive_rate: tpr,
        thresholds: keep.iter().map(|&i| cuts[i]).collect(),
        auc,
    })
}

/// A precision-recall curve, by falling threshold, starting at recall 0, precision 1.
#[derive(Clone, Debug, PartialEq)]
pub struct PrCurve {
    pub recall: Vec<f64>,
    pub precision: Vec<f64>,
    /// Average precision: Σ (recallₙ − recallₙ₋₁) · precisionₙ over the thresholds, the area
    /// under the curve's steps (no interpolation, as scikit-learn computes it).
    pub average_precision: f64,
}

/// The precision-recall curve of `scores` for the samples marked `positive`; `None` when
/// there are no positives (recall is undefined).
pub fn pr_curve(scores: &[f32], positive: &[bool]) -> Option<PrCurve> {
    assert_eq!(scores.len(), positive.len(), "one label per score");
    let t = thresholds(scores, positive);
    let positives = *t.true_positives.last()?;
    if positives == 0.0 {
        return None;
    }
    let mut recall = vec![0.0];
    let mut precision = vec![1.0];
    for (tp, fp) in t.true_positives.iter().zip(&t.false_positives) {
        recall.push(tp / positives);
        precision.push(tp / (tp + fp));
    }
    let average_precision = (1..recall.len())
        .map(|i| (recall[i] - recall[i - 1]) * precision[i])
        .sum();
    Some(PrCurve {
        recall,
        precision,
        average_precision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand: scores 0.9 (+), 0.8 (−), 0.7 (+), 0.6 (−), 0.5 (+).
    #[test]
    fn auc_counts_the_pairs_a_positive_wins() {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5];
        let positive = [true, false, true, false, true];
        let roc = roc_curve(&scores, &positive).unwrap();
        // Pairs (positive, negative): (0.9, 0.8) (0.9, 0.6) (0.7, 0.8) (0.7, 0.6) (0.5, 0.8)
        // (0.5, 0.6): the positive wins 3 of 6.
        assert!((roc.auc - 0.5).abs() < 1e-12, "{}", roc.auc);
        // AP: thresholds 0.9 (P 1, R 1/3), 0.7 (P 2/3, R 2/3), 0.5 (P 3/5, R 1):
        // 1/3·1 + 1/3·2/3 + 1/3·3/5 = 0.7555…
        let pr = pr_curve(&scores, &positive).unwrap();
        let expected = (1.0 + 2.0 / 3.0 + 3.0 / 5.0) / 3.0;
        assert!((pr.average_precision - expected).abs() < 1e-12);
    }

    #[test]
    fn a_perfect_ranking_has_area_one_and_ties_count_half() {
        let perfect = roc_curve(&[0.9, 0.8, 0.2, 0.1], &[true, true, false, false]).unwrap();
        assert_eq!(perfect.auc, 1.0);
        assert_eq!(perfect.false_positive_rate, [0.0, 0.0, 1.0]);
        assert_eq!(perfect.true_positive_rate, [0.0, 1.0, 1.0]);
        let tied = roc_curve(&[0.5, 0.5], &[true, false]).unwrap();
        assert_eq!(tied.auc, 0.5);
    }

    #[test]
    fn one_class_alone_has_no_curve() {
        assert!(roc_curve(&[0.3, 0.4], &[true, true]).is_none());
        assert!(pr_curve(&[0.3, 0.4], &[false, false]).is_none());
    }
}
