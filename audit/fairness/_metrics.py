"""Group metrics from confusion counts, and the same metrics with fairlearn `MetricFrame` (the oracle).

The count formulas give the reported values, vectorised over bootstrap resamples, and tell which values are
undefined (fairlearn returns 0.0 for a rate whose denominator is empty). `metric_frame` / `macro_f1_frame` compute
the same metrics from the rows with fairlearn; the tests check exact agreement and the benchmark times them.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

__all__ = ["GROUP_METRICS", "UNDEFINED_NOTES", "rates_from_cells", "macro_f1_from_confusion", "metric_frame",
           "macro_f1_frame"]

GROUP_METRICS = ("count", "share", "base_rate", "selection_rate", "accuracy", "precision", "tpr", "fpr", "fnr")
UNDEFINED_NOTES = {
    "base_rate": "group is empty",
    "selection_rate": "group is empty",
    "accuracy": "group is empty",
    "precision": "undefined: no selections predicted in group",
    "tpr": "undefined: no actual favorable outcomes (positives) in group",
    "fnr": "undefined: no actual favorable outcomes (positives) in group",
    "fpr": "undefined: no actual unfavorable outcomes (negatives) in group",
    "macro_f1": "group is empty",
}


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def rates_from_cells(cells: np.ndarray, total: np.ndarray | float) -> dict[str, np.ndarray]:
    """Metrics from 2x2 counts whose last axis is (TN, FP, FN, TP) = truth*2 + decision; NaN where undefined."""
    tn, fp, fn, tp = (cells[..., i].astype(float) for i in range(4))
    n = tn + fp + fn + tp
    pos, neg = tp + fn, tn + fp
    return {
        "count": n,
        "share": _div(n, np.broadcast_to(total, n.shape)),
        "base_rate": _div(pos, n),
        "selection_rate": _div(tp + fp, n),
        "accuracy": _div(tp + tn, n),
        "precision": _div(tp, tp + fp),
        "tpr": _div(tp, pos),
        "fpr": _div(fp, neg),
        "fnr": _div(fn, pos),
    }


def macro_f1_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """Macro-F1 over the classes present (true or predicted) in each group, as sklearn's default; last axes (K, K)."""
    tp = np.diagonal(confusion, axis1=-2, axis2=-1).astype(float)
    rows, cols = confusion.sum(axis=-1).astype(float), confusion.sum(axis=-2).astype(float)
    present = (rows + cols) > 0
    f1 = _div(2 * tp, rows + cols)
    n_present = present.sum(axis=-1)
    total = np.where(present, np.nan_to_num(f1), 0.0).sum(axis=-1)
    return _div(total, n_present)


def _base_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true))


def metric_frame(truth: np.ndarray, decision: np.ndarray, sensitive: pd.DataFrame, **kwargs):
    """fairlearn MetricFrame of the binary (favorable vs not) metrics for the groups of `sensitive`'s columns
    (`kwargs` go to MetricFrame, e.g. its own n_boot/ci_quantiles for comparison)."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    metrics = {
        "count": count,
        "base_rate": _base_rate,
        "selection_rate": partial(selection_rate, pos_label=1),
        "accuracy": accuracy_score,
        "precision": partial(precision_score, pos_label=1, zero_division=np.nan),
        "tpr": partial(true_positive_rate, pos_label=1),
        "fpr": partial(false_positive_rate, pos_label=1),
        "fnr": partial(false_negative_rate, pos_label=1),
    }
    return MetricFrame(metrics=metrics, y_true=truth.astype(int), y_pred=decision.astype(int),
                       sensitive_features=sensitive, **kwargs)


def macro_f1_frame(y_true: np.ndarray, y_pred: np.ndarray, sensitive: pd.DataFrame):
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import f1_score

    return MetricFrame(metrics={"macro_f1": partial(f1_score, average="macro", zero_division=0)},
                       y_true=y_true, y_pred=y_pred, sensitive_features=sensitive)
