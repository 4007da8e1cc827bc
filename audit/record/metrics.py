"""Classification metrics for the run record: accuracy, macro-F1, per-class precision/recall/F1, calibration ECE.

Pure numpy/scikit-learn, shared by training (validation/test) and the audit stage.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import ClassificationMetrics, ClassMetrics

__all__ = ["expected_calibration_error", "classification_metrics", "macro_f1"]


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 15) -> float:
    """ECE on the top-class probability, `n_bins` equal-width bins (Guo et al., 2017).

    Sum over bins of (bin share) x |accuracy in bin - mean confidence in bin|; 0 is perfectly calibrated.
    """
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    if len(y_true) == 0:
        return 0.0
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_true).astype(np.float64)
    # Bin b holds confidences in (b/n, (b+1)/n]; confidence 0 falls in the first bin.
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    acc = np.bincount(bins, weights=correct, minlength=n_bins)
    conf = np.bincount(bins, weights=confidence, minlength=n_bins)
    filled = counts > 0
    gaps = np.abs(acc[filled] - conf[filled])  # sums, so |sum(correct) - sum(conf)| / n per bin
    return float(gaps.sum() / len(y_true))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean F1 over the classes present in the targets or the predictions (scikit-learn's default)."""
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="macro", zero_division=0)) if len(y_true) else 0.0


def classification_metrics(y_true: Sequence[int] | np.ndarray, proba: np.ndarray, labels: list[str]) -> ClassificationMetrics:
    """Metrics of class-index targets `y_true` against class probabilities `proba` (n, len(labels))."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba)
    if proba.ndim != 2 or proba.shape != (len(y_true), len(labels)):
        raise ValueError(f"proba must have shape ({len(y_true)}, {len(labels)}), got {proba.shape}")
    y_pred = proba.argmax(axis=1)
    index = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=index, zero_division=0)
    per_class = {label: ClassMetrics(precision=float(precision[i]), recall=float(recall[i]), f1=float(f1[i]),
                                     support=int(support[i])) for i, label in enumerate(labels)}
    return ClassificationMetrics(
        n=len(y_true), accuracy=float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        macro_f1=macro_f1(y_true, y_pred),
        ece=expected_calibration_error(y_true, proba), per_class=per_class,
    )
