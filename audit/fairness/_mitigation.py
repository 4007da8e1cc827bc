"""Post-processing mitigation with fairlearn `ThresholdOptimizer` (Hardt et al. 2016) on the model's scores.

The classifier is already trained (`prefit=True`): its favorable-outcome probability is the only feature the
optimizer sees. Group thresholds are fitted on a calibration part of the held-out rows and judged on the rest; they
are exported as plain JSON that `apply_thresholds` (or any serving code) applies without fairlearn.
"""
from __future__ import annotations

import warnings
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from audit.core.errors import BadInputError
from audit.record import Estimate

from ._bootstrap import bootstrap_counts, percentile_ci
from ._disparity import disparities
from ._metrics import rates_from_cells

__all__ = ["CONSTRAINTS", "ScoreColumn", "calibration_mask", "fit_threshold_optimizer", "thresholds_payload",
           "apply_thresholds", "before_after"]

CONSTRAINTS = ("demographic_parity", "equalized_odds")


class ScoreColumn(ClassifierMixin, BaseEstimator):
    """A 'fitted' estimator whose favorable-class probability is column 0 of X (the audited model's score)."""

    def fit(self, X: Any = None, y: Any = None) -> "ScoreColumn":
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        score = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1.0 - score, score])

    def predict(self, X: Any) -> np.ndarray:
        return (np.asarray(X, dtype=float)[:, 0] > 0.5).astype(int)


def calibration_mask(groups: np.ndarray, truth: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Stratified by group x truth: `share` of every stratum calibrates, at least one row (so every group gets a
    threshold), and at least one row of strata with 2+ rows is left to evaluate."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(groups), dtype=bool)
    strata = pd.Series(np.arange(len(groups))).groupby([pd.Series(groups), pd.Series(truth)]).indices
    for rows in strata.values():
        take = max(int(round(share * len(rows))), 1)
        if len(rows) >= 2:
            take = min(take, len(rows) - 1)
        mask[rng.permutation(rows)[:take]] = True
    return mask


def fit_threshold_optimizer(score: np.ndarray, truth: np.ndarray, groups: np.ndarray, constraint: str):
    from fairlearn.postprocessing import ThresholdOptimizer

    if constraint not in CONSTRAINTS:
        raise BadInputError(f"unknown mitigation constraint {constraint!r}", where="--constraint",
                            fix=f"choose one of {list(CONSTRAINTS)}")
    if len(np.unique(truth)) < 2:
        raise BadInputError("calibration rows hold a single outcome; thresholds cannot be fitted",
                            fix="audit more held-out rows or raise fairness.calibration_size")
    optimizer = ThresholdOptimizer(estimator=ScoreColumn().fit(), constraints=constraint, objective="accuracy_score",
                                   prefit=True, predict_method="predict_proba")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optimizer.fit(score[:, None], truth.astype(int), sensitive_features=pd.Series(groups, name="group"))
    except ValueError as err:
        raise BadInputError(f"ThresholdOptimizer could not fit: {str(err).splitlines()[0][:200]}",
                            fix="every group needs both outcomes in the calibration rows: mitigate by fewer features "
                                "(--mitigate-by FEATURE), merge tiny groups or use more data") from None
    return optimizer


def _operation(op: Any) -> dict[str, Any]:
    threshold = float(op.threshold)
    return {"operator": op.operator, "threshold": threshold if np.isfinite(threshold) else ("inf" if threshold > 0 else "-inf")}


def thresholds_payload(optimizer: Any, *, constraint: str, labels: list[str], favorable: list[str],
                       features: list[str], separator: str, unknown_group: str, seed: int) -> dict[str, Any]:
    """JSON-serialisable group thresholds: everything needed to serve the model with them."""
    groups = {}
    for group, rule in optimizer.interpolated_thresholder_.interpolation_dict.items():
        entry = {"p0": float(rule["p0"]), "operation0": _operation(rule["operation0"]),
                 "p1": float(rule["p1"]), "operation1": _operation(rule["operation1"])}
        if "p_ignore" in rule:
            entry["p_ignore"] = float(rule["p_ignore"])
            entry["prediction_constant"] = float(rule["prediction_constant"])
        groups[str(group)] = entry
    return {
        "method": "ThresholdOptimizer", "library": f"fairlearn {metadata.version('fairlearn')}",
        "constraint": constraint, "objective": "accuracy_score",
        "score": "sum of the model's softmax probabilities over favorable_classes",
        "labels": labels, "favorable_classes": favorable, "sensitive_features": features,
        "group_separator": separator, "unknown_group": unknown_group, "seed": seed,
        "rule": "P(select) = p0*[score op0 t0] + p1*[score op1 t1]; with probability p_ignore it is replaced by "
                "prediction_constant; select when a uniform draw is below P(select)",
        "groups": groups,
    }


def _threshold(value: Any) -> float:
    return float(value) if not isinstance(value, str) else (np.inf if value == "inf" else -np.inf)


def _apply_op(score: np.ndarray, op: dict[str, Any]) -> np.ndarray:
    t = _threshold(op["threshold"])
    return score > t if op["operator"] == ">" else score < t


def apply_thresholds(score: np.ndarray, groups: np.ndarray, payload: dict[str, Any], *,
                     random_state: int | np.random.Generator | None = None,
                     return_probability: bool = False) -> np.ndarray:
    """Serve with saved thresholds: the selection decision (or its probability) per row."""
    score, groups = np.asarray(score, dtype=float), np.asarray(groups).astype(str)
    unseen = sorted(set(groups) - set(payload["groups"]))
    if unseen:
        raise BadInputError(f"{len(unseen)} group(s) have no fitted threshold", where="thresholds",
                            fix="refit the thresholds on data covering every group")
    prob = np.zeros(len(score))
    for group, rule in payload["groups"].items():
        rows = groups == group
        p = rule["p0"] * _apply_op(score[rows], rule["operation0"]) + rule["p1"] * _apply_op(score[rows], rule["operation1"])
        if "p_ignore" in rule:
            p = rule["p_ignore"] * rule["prediction_constant"] + (1 - rule["p_ignore"]) * p
        prob[rows] = p
    if return_probability:
        return prob
    return np.random.default_rng(random_state).random(len(score)) < prob


def before_after(truth: np.ndarray, before: np.ndarray, after: np.ndarray, groups: np.ndarray, eligible_names: set[str],
                 *, n_boot: int, seed: int, level: float) -> tuple[dict[str, Estimate], dict[str, Estimate], Estimate]:
    """Overall accuracy and selection rate, group selection rates and disparities, before and after, with paired
    bootstrap intervals (one multinomial draw over group x truth x before x after); plus the accuracy cost."""
    names, codes = np.unique(groups, return_inverse=True)
    state = truth.astype(int) * 4 + before.astype(int) * 2 + after.astype(int)
    counts = np.bincount(codes * 8 + state, minlength=len(names) * 8).reshape(len(names), 8)
    eligible = np.array([n in eligible_names for n in names])
    n = len(truth)
    to_before = np.zeros((8, 4), dtype=np.int64)
    to_after = np.zeros((8, 4), dtype=np.int64)
    for s in range(8):
        t, b, a = s // 4, (s // 2) % 2, s % 2
        to_before[s, t * 2 + b] = 1
        to_after[s, t * 2 + a] = 1

    def stats(c: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for tag, mapping in (("before", to_before), ("after", to_after)):
            cells = c @ mapping
            rates = rates_from_cells(cells, n)
            total = rates_from_cells(cells.sum(axis=-2), n)
            out[tag, "accuracy"] = total["accuracy"]
            out[tag, "selection_rate"] = total["selection_rate"]
            for i, name in enumerate(names):
                out[tag, f"selection_rate[{name}]"] = rates["selection_rate"][..., i]
            for key, value in disparities(rates, eligible).items():
                out[tag, key] = value
        out["cost"] = out["before", "accuracy"] - out["after", "accuracy"]
        return out

    point = stats(counts[None])
    boot = stats(bootstrap_counts(counts, n_boot, seed)) if n_boot > 0 else None

    def est(key: Any) -> Estimate:
        value = float(point[key][0])
        if not np.isfinite(value):
            return Estimate(value=None, note="undefined (fewer than two eligible groups, or an empty denominator)")
        if boot is None:
            return Estimate(value=value)
        low, high, _ = percentile_ci(boot[key][:, None], level)
        return Estimate(value=value, ci_low=float(low[0]), ci_high=float(high[0]))

    result = {tag: {key: est((tag, key)) for (t, key) in [k for k in point if isinstance(k, tuple)] if t == tag}
              for tag in ("before", "after")}
    return result["before"], result["after"], est("cost")
