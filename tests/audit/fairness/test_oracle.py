"""The count-based section against fairlearn's MetricFrame (the oracle): every point estimate agrees exactly."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from audit.core.config import FairnessConfig
from audit.fairness import GroupCounts, audit_counts, group_audit, metric_frame
from audit.fairness._metrics import macro_f1_frame

ORACLE = ("count", "base_rate", "selection_rate", "accuracy", "precision", "tpr", "fpr", "fnr")


def _data(n: int, k: int, seed: int):
    rng = np.random.default_rng(seed)
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m", "unknown"], n, p=[0.5, 0.45, 0.05]),
                              "race": rng.choice(["a", "b", "c", "d"], n, p=[0.5, 0.3, 0.15, 0.05])})
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n))
    return y_true, y_pred, sensitive


def _oracle_by_group(frame, column: str) -> dict[tuple, float]:
    return {(k if isinstance(k, tuple) else (k,)): v for k, v in frame.by_group[column].items()}


def _check(audit, y_true, decisions, sensitive, multiclass_pred=None):
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for grouping in audit.groupings:
            truth, decision = decisions[grouping.outcome]
            frame = metric_frame(truth, decision, sensitive[grouping.features])
            f1 = (macro_f1_frame(y_true, multiclass_pred, sensitive[grouping.features])
                  if multiclass_pred is not None else None)
            for group in grouping.groups:
                key = tuple(group.group.split(" × "))
                for metric in ORACLE:
                    expected = _oracle_by_group(frame, metric)[key]
                    got = group.metrics[metric].value
                    if got is None:  # undefined: fairlearn gives 0.0 (or NaN for precision)
                        assert expected == 0.0 or np.isnan(expected), (grouping.name, group.group, metric)
                    else:
                        assert got == expected, (grouping.name, group.group, metric, got, expected)
                    checked += 1
                if f1 is not None:
                    assert group.metrics["macro_f1"].value == pytest.approx(_oracle_by_group(f1, "macro_f1")[key],
                                                                            rel=1e-12, abs=1e-15)
                    checked += 1
    return checked


def test_binary_point_estimates_equal_metricframe():
    y_true, y_pred, sensitive = _data(3000, 2, 0)
    audit = group_audit(y_true, y_pred, ["no", "yes"], sensitive, FairnessConfig(favorable_label="yes", n_boot=0,
                                                                                  n_perm=0))
    assert _check(audit, y_true, {"yes": (y_true == 1, y_pred == 1)}, sensitive) > 100


def test_multiclass_with_directions_equal_metricframe():
    labels = ["deny", "approve", "billing"]
    y_true, y_pred, sensitive = _data(4000, 3, 1)
    config = FairnessConfig(classes={"deny": "adverse", "approve": "favorable", "billing": "neutral"}, n_boot=0,
                            n_perm=0)
    audit = group_audit(y_true, y_pred, labels, sensitive, config)
    assert {(g.outcome, g.direction) for g in audit.groupings} == {
        ("not deny", "adverse"), ("approve", "favorable"), ("billing", "neutral")}
    decisions = {"not deny": (y_true != 0, y_pred != 0), "approve": (y_true == 1, y_pred == 1),
                 "billing": (y_true == 2, y_pred == 2)}
    assert _check(audit, y_true, decisions, sensitive, multiclass_pred=y_pred) > 300


def test_score_outcome_equals_metricframe_on_the_median_split():
    y_true, _, sensitive = _data(2000, 2, 2)
    score = np.random.default_rng(9).random(2000)
    proba = np.column_stack([1 - score, score])
    audit = group_audit(y_true, proba.argmax(1), ["no", "yes"], sensitive,
                        FairnessConfig(favorable_label="yes", outcome_kind="score", n_boot=0, n_perm=0), proba=proba)
    assert _check(audit, y_true, {"yes": (y_true == 1, score > np.median(score))}, sensitive) > 100


def test_audit_of_merged_shards_equals_audit_of_all_rows():
    y_true, y_pred, sensitive = _data(3000, 2, 3)
    config = FairnessConfig(favorable_label="yes", n_boot=300, n_perm=300)
    whole = group_audit(y_true, y_pred, ["no", "yes"], sensitive, config)
    shards = [GroupCounts.from_arrays(sensitive.iloc[a:a + 1000], y_true[a:a + 1000], y_pred[a:a + 1000], ["no", "yes"])
              for a in range(0, 3000, 1000)]
    merged = audit_counts(GroupCounts.total(shards), config)
    assert [g.model_dump() for g in merged.groupings] == [g.model_dump() for g in whole.groupings]
