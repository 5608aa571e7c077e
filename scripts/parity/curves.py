"""ROC and precision-recall reference values from scikit-learn, for crates/trainer's curves.

Writes crates/trainer/tests/fixtures/curves.json: seeded scores (rounded, so that ties occur,
and exactly representable as float32), labels, and what scikit-learn computes from them:
roc_curve points (drop_intermediate=True), roc_auc_score, average_precision_score, for a binary
case and a 4-class case (one-vs-rest per class, and the macro average).

    python3 -m venv /tmp/skvenv && /tmp/skvenv/bin/pip install scikit-learn numpy
    /tmp/skvenv/bin/python scripts/parity/curves.py
    cargo test -p trainer --test curves
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/trainer/tests/fixtures/curves.json"
rng = np.random.default_rng(7)


def f32(values):
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def binary_case(n=400):
    labels = rng.integers(0, 2, n)
    # Positives score higher on average; two decimals make ties.
    scores = f32(np.round(np.clip(rng.normal(0.35 + 0.3 * labels, 0.2), 0, 1), 2))
    fpr, tpr, thresholds = roc_curve(labels, scores)
    return {
        "scores": scores.tolist(),
        "labels": labels.tolist(),
        "roc_auc": roc_auc_score(labels, scores),
        "average_precision": average_precision_score(labels, scores),
        "fpr": fpr.tolist(),
        "tpr": tpr.tolist(),
        "thresholds": thresholds[1:].tolist(),  # scikit-learn's first is inf
    }


def multiclass_case(n=300, k=4):
    labels = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), labels] += 1.2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    probs = f32(np.round(probs, 3))
    probs /= probs.sum(1, keepdims=True)  # roc_auc_score(multi_class) wants rows summing to 1
    probs = f32(probs)
    one_hot = np.eye(k)[labels]
    return {
        "probabilities": probs.tolist(),
        "labels": labels.tolist(),
        "roc_auc_per_class": [roc_auc_score(one_hot[:, c], probs[:, c]) for c in range(k)],
        "average_precision_per_class": [
            average_precision_score(one_hot[:, c], probs[:, c]) for c in range(k)
        ],
        "roc_auc_macro_ovr": roc_auc_score(labels, probs, multi_class="ovr", average="macro"),
        "average_precision_macro": average_precision_score(one_hot, probs, average="macro"),
    }


fixture = {
    "sklearn_version": sklearn.__version__,
    "binary": binary_case(),
    "multiclass": multiclass_case(),
}
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(fixture))
print(f"wrote {OUT} (scikit-learn {sklearn.__version__})")
print(f"binary AUC {fixture['binary']['roc_auc']:.6f}, AP {fixture['binary']['average_precision']:.6f}")
print(f"4-class macro AUC {fixture['multiclass']['roc_auc_macro_ovr']:.6f}")
