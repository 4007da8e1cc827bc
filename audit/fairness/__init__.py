"""Fairness audit from per-group confusion counts (`GroupCounts`, mergeable across shards): group metrics (equal to
fairlearn `MetricFrame`'s), comparisons with a fixed reference group, disparities, LL144 impact ratios, the
four-fifths test, small-group and one-person-flip checks, bootstrap intervals, permutation tests with Holm / BH
correction, and ThresholdOptimizer mitigation.

See docs/fairness.md for each number's definition and regulatory source.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audit.core.config import FairnessConfig
from audit.core.counts import GroupCounts
from audit.record import FairnessSection, MitigationResult
from audit.record.metrics import classification_metrics

from ._disparity import FOUR_FIFTHS
from ._groups import JOIN
from ._metrics import metric_frame
from ._mitigation import (
    CONSTRAINTS,
    apply_thresholds,
    before_after,
    calibration_mask,
    fit_threshold_optimizer,
    thresholds_payload,
)
from ._outcome import Outcome, resolve_outcomes
from ._section import GroupAudit, audit_counts, group_audit

__all__ = ["GroupCounts", "FOUR_FIFTHS", "CONSTRAINTS", "Outcome", "resolve_outcomes", "GroupAudit", "group_audit", "audit_counts",
           "fairness_section", "mitigate_threshold", "apply_thresholds", "group_names", "metric_frame"]


def group_names(sensitive: pd.DataFrame) -> np.ndarray:
    """Each row's intersectional group name ('a × b'), the key used by saved thresholds."""
    values = sensitive.astype(str)
    names = values.iloc[:, 0]
    for column in values.columns[1:]:
        names = names.str.cat(values[column], sep=JOIN)
    return names.to_numpy()


def fairness_section(*, y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], sensitive: pd.DataFrame,
                     config: FairnessConfig, proba: np.ndarray | None = None, unknown_group: str = "unknown",
                     predictions_artifact: str = "predictions.parquet", unknown_counts: dict[str, int] | None = None,
                     overlap_with_training: int = 0, counts: GroupCounts | None = None) -> FairnessSection:
    """The run record's fairness section from label indices, probabilities and the sensitive-feature columns.

    `counts`: the rows' `GroupCounts` already added up from shards (the Ray engine); the group audit then starts from
    them instead of counting the rows again (the result is the same)."""
    if counts is not None:
        audit = audit_counts(counts, config, unknown_group=unknown_group)
    else:
        audit = group_audit(np.asarray(y_true), np.asarray(y_pred), labels, sensitive, config, proba=proba,
                            unknown_group=unknown_group)
    if unknown_counts is None:
        unknown_counts = {c: int((sensitive[c].astype(str) == unknown_group).sum()) for c in sensitive.columns}
    return FairnessSection(
        task="binary" if len(labels) == 2 else "multiclass", labels=labels, use_case=config.use_case,
        favorable_outcome=", ".join(o.name for o in audit.outcomes), outcome_kind=config.outcome_kind,
        n_rows=int(len(y_true)), predictions_artifact=predictions_artifact, sensitive_features=list(sensitive.columns),
        score_threshold=audit.score_threshold,
        overall=classification_metrics(np.asarray(y_true), proba, labels) if proba is not None else None,
        groupings=audit.groupings, unknown_counts=unknown_counts, overlap_with_training=overlap_with_training,
        n_boot=config.n_boot, ci_level=config.ci_level, n_perm=config.n_perm, alpha=config.alpha,
        correction=config.correction)


def mitigate_threshold(*, proba: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, labels: list[str],
                       sensitive: pd.DataFrame, config: FairnessConfig, constraint: str,
                       unknown_group: str = "unknown",
                       thresholds_artifact: str = "thresholds.json") -> tuple[MitigationResult, dict[str, Any]]:
    """Fit ThresholdOptimizer on a calibration split of the held-out rows; before/after on the other rows.

    Returns the record's MitigationResult and the thresholds payload (save it as JSON to serve the model)."""
    outcomes = resolve_outcomes(labels, config)
    if len(outcomes) != 1:
        from audit.core.errors import BadInputError

        raise BadInputError("threshold mitigation needs one favorable outcome; several classes are audited",
                            where="config fairness", fix="set fairness.favorable_label for the mitigation run")
    (outcome,) = outcomes
    score = proba[:, list(outcome.classes)].sum(axis=1)
    truth = outcome.mask(np.asarray(y_true))
    if config.outcome_kind == "score":
        before = score > np.median(score)
    else:
        before = outcome.mask(np.asarray(y_pred))
    groups = group_names(sensitive)
    calib = calibration_mask(groups, truth, config.calibration_size, config.seed)
    optimizer = fit_threshold_optimizer(score[calib], truth[calib], groups[calib], constraint)
    payload = thresholds_payload(optimizer, constraint=constraint, labels=labels,
                                 favorable=[labels[i] for i in outcome.classes], features=list(sensitive.columns),
                                 separator=JOIN, unknown_group=unknown_group, seed=config.seed)
    held = ~calib
    after = apply_thresholds(score[held], groups[held], payload, random_state=config.seed)
    names, counts = np.unique(groups[held], return_counts=True)
    n_eval = int(held.sum())
    eligible = {str(g) for g, c in zip(names, counts)
                if c >= config.min_group_size and c / n_eval >= config.min_group_share and unknown_group not in g.split(JOIN)}
    before_est, after_est, cost = before_after(truth[held], before[held], after, groups[held], eligible,
                                               n_boot=config.n_boot, seed=config.seed, level=config.ci_level)
    result = MitigationResult(method="ThresholdOptimizer", constraint=constraint, thresholds_artifact=thresholds_artifact,
                              sensitive_features=list(sensitive.columns), n_calibration=int(calib.sum()),
                              n_evaluation=n_eval, before=before_est, after=after_est, accuracy_cost=cost.value)
    return result, payload
