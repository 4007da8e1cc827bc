"""Fairness metrics and disparities against independent hand computations; undefined metrics; groups and flags."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.core.config import FairnessConfig
from audit.core.errors import BadInputError
from audit.fairness import fairness_section, group_audit, resolve_outcomes
from audit.fairness._disparity import four_fifths, one_person_flip

LABELS = ["deny", "approve"]  # favorable = approve = index 1

# Group A: TP 3, FN 1, FP 2, TN 4 | group B: TP 1, FN 2, FP 1, TN 4 | group C (small): FP 2, no positives.
ROWS = ([("A", 1, 1)] * 3 + [("A", 1, 0)] + [("A", 0, 1)] * 2 + [("A", 0, 0)] * 4
        + [("B", 1, 1)] + [("B", 1, 0)] * 2 + [("B", 0, 1)] + [("B", 0, 0)] * 4
        + [("C", 0, 1)] * 2)


def _arrays(rows):
    groups = [r[0] for r in rows]
    return np.array([r[1] for r in rows]), np.array([r[2] for r in rows]), pd.DataFrame({"sex": groups})


def _hand(rows, group):
    """Plain counting, independent of the implementation."""
    tp = sum(1 for g, t, p in rows if g == group and t == 1 and p == 1)
    fn = sum(1 for g, t, p in rows if g == group and t == 1 and p == 0)
    fp = sum(1 for g, t, p in rows if g == group and t == 0 and p == 1)
    tn = sum(1 for g, t, p in rows if g == group and t == 0 and p == 0)
    n = tp + fn + fp + tn
    return {"count": n, "share": n / len(rows), "base_rate": (tp + fn) / n, "selection_rate": (tp + fp) / n,
            "accuracy": (tp + tn) / n, "precision": tp / (tp + fp) if tp + fp else None,
            "tpr": tp / (tp + fn) if tp + fn else None, "fpr": fp / (fp + tn) if fp + tn else None,
            "fnr": fn / (tp + fn) if tp + fn else None}


def _audit(rows, **config):
    y_true, y_pred, sensitive = _arrays(rows)
    # C (n=2, 10%) is below min_group_size (no verdict) and, with min_group_share 0.15, excluded from the reference.
    cfg = FairnessConfig(**{"favorable_label": "approve", "min_group_size": 5, "min_group_share": 0.15,
                            "n_boot": 50, **config})
    return group_audit(y_true, y_pred, LABELS, sensitive, cfg)


def test_group_metrics_match_hand_counts():
    grouping = _audit(ROWS).groupings[0]
    assert [g.group for g in grouping.groups] == ["A", "B", "C"]
    for result in grouping.groups:
        expected = _hand(ROWS, result.group)
        for metric, value in expected.items():
            got = result.metrics[metric].value
            assert got == pytest.approx(value) if value is not None else got is None, (result.group, metric)
    a = grouping.groups[0].metrics
    assert (a["selection_rate"].value, a["tpr"].value, a["fpr"].value) == pytest.approx((5 / 10, 3 / 4, 2 / 6))


def test_disparities_impact_ratios_and_four_fifths_match_hand_values():
    grouping = _audit(ROWS).groupings[0]
    d = {k: v.value for k, v in grouping.disparities.items()}
    # Eligible groups A and B only (C is below min_group_size=5).
    assert d["demographic_parity_difference"] == pytest.approx(5 / 10 - 2 / 8)
    assert d["demographic_parity_ratio"] == pytest.approx((2 / 8) / (5 / 10))
    assert d["equal_opportunity_difference"] == pytest.approx(3 / 4 - 1 / 3)
    assert d["equalized_odds_difference"] == pytest.approx(max(3 / 4 - 1 / 3, 2 / 6 - 1 / 5))
    a, b, c = grouping.groups
    assert grouping.reference_group == "A"
    assert a.impact_ratio.value == pytest.approx(1.0) and a.four_fifths_pass is True
    assert b.impact_ratio.value == pytest.approx(0.5) and b.four_fifths_pass is False
    assert grouping.four_fifths_failures == ["B"]
    # The small group keeps its numbers (ratio to the reference: 1.0 / 0.5) but gets no verdict.
    assert c.small and c.impact_ratio.value == pytest.approx(2.0) and c.four_fifths_pass is None
    assert "small group" in c.impact_ratio.note


def test_zero_positive_group_is_undefined_not_nan():
    c = _audit(ROWS).groupings[0].groups[2]
    for metric in ("tpr", "fnr"):
        assert c.metrics[metric].value is None and "no actual favorable" in c.metrics[metric].note
    assert c.metrics["fpr"].value == pytest.approx(1.0)
    section = fairness_section(y_true=_arrays(ROWS)[0], y_pred=_arrays(ROWS)[1], labels=LABELS,
                               sensitive=_arrays(ROWS)[2], config=FairnessConfig(favorable_label="approve", n_boot=20))
    assert "NaN" not in section.model_dump_json()


def test_unknown_group_is_reported_but_never_the_reference():
    rows = ROWS[:18] + [("unknown", 0, 1)] * 6
    grouping = _audit(rows).groupings[0]
    unknown = grouping.groups[-1]
    assert unknown.group == "unknown" and unknown.unknown and not unknown.small
    assert unknown.metrics["selection_rate"].value == 1.0  # highest rate, still not the reference
    assert grouping.reference_group == "A" and unknown.four_fifths_pass is None


def test_adverse_label_uses_the_complement():
    y_true, y_pred, sensitive = _arrays(ROWS)
    favorable = group_audit(y_true, y_pred, LABELS, sensitive, FairnessConfig(favorable_label="approve", n_boot=0,
                                                                             min_group_size=1))
    adverse = group_audit(y_true, y_pred, LABELS, sensitive, FairnessConfig(adverse_label="deny", n_boot=0,
                                                                           min_group_size=1))
    f = [g.metrics["selection_rate"].value for g in favorable.groupings[0].groups]
    a = [g.metrics["selection_rate"].value for g in adverse.groupings[0].groups]
    assert adverse.groupings[0].outcome == "approve" and f == a


def test_disparities_equal_fairlearn_functions_when_all_groups_eligible():
    from fairlearn.metrics import (
        demographic_parity_difference,
        demographic_parity_ratio,
        equal_opportunity_difference,
        equalized_odds_difference,
    )

    rng = np.random.default_rng(3)
    n = 600
    sensitive = pd.DataFrame({"race": rng.choice(["x", "y", "z"], n)})
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, 1 - y_true)
    audit = group_audit(y_true, y_pred, LABELS, sensitive, FairnessConfig(favorable_label="approve", n_boot=0,
                                                                          min_group_size=1))
    d = {k: v.value for k, v in audit.groupings[0].disparities.items()}
    sf = sensitive["race"]
    assert d["demographic_parity_difference"] == pytest.approx(demographic_parity_difference(y_true, y_pred, sensitive_features=sf))
    assert d["demographic_parity_ratio"] == pytest.approx(demographic_parity_ratio(y_true, y_pred, sensitive_features=sf))
    assert d["equalized_odds_difference"] == pytest.approx(equalized_odds_difference(y_true, y_pred, sensitive_features=sf))
    assert d["equal_opportunity_difference"] == pytest.approx(equal_opportunity_difference(y_true, y_pred, sensitive_features=sf))


def test_intersections_match_hand_counts():
    rng = np.random.default_rng(5)
    n = 300
    sex = rng.choice(["f", "m"], n)
    race = rng.choice(["p", "q", "r"], n)
    y_true = rng.integers(0, 2, n)
    y_pred = rng.integers(0, 2, n)
    audit = group_audit(y_true, y_pred, LABELS, pd.DataFrame({"sex": sex, "race": race}),
                        FairnessConfig(favorable_label="approve", n_boot=0, min_group_size=1))
    assert [g.name for g in audit.groupings] == ["sex", "race", "sex × race"]
    inter = audit.groupings[2]
    assert len(inter.groups) == 6 and sum(g.count for g in inter.groups) == n
    rows = [(f"{s} × {r}", t, p) for s, r, t, p in zip(sex, race, y_true, y_pred)]
    for result in inter.groups:
        expected = _hand(rows, result.group)
        assert result.metrics["selection_rate"].value == pytest.approx(expected["selection_rate"])
        assert result.metrics["tpr"].value == pytest.approx(expected["tpr"])


def test_one_person_flip():
    eligible = np.array([True, True])
    counts = np.array([20, 18])
    # B: 7/18 vs A: 10/20 -> ratio 0.778 fails; one more selection in B (8/18 -> 0.889) passes.
    assert list(four_fifths(np.array([10, 7]), counts, eligible)) == [1, 0]
    assert list(one_person_flip(np.array([10, 7]), counts, eligible)) == [False, True]
    # B: 4/18 -> ratio 0.444; no single decision changes that.
    assert list(one_person_flip(np.array([10, 4]), counts, eligible)) == [False, False]


def test_multiclass_one_vs_rest_and_macro_f1_per_group():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(11)
    n = 400
    labels = ["billing", "fraud", "other"]
    y_true = rng.integers(0, 3, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, 3, n))
    sensitive = pd.DataFrame({"age": rng.choice(["young", "old"], n)})
    audit = group_audit(y_true, y_pred, labels, sensitive,
                        FairnessConfig(classes_of_interest=["fraud", "other"], n_boot=30, min_group_size=1))
    assert [g.outcome for g in audit.groupings] == ["fraud", "other"]
    for result in audit.groupings[0].groups:
        rows = sensitive["age"].to_numpy() == result.group
        assert result.metrics["selection_rate"].value == pytest.approx(np.mean(y_pred[rows] == 1))
        assert result.metrics["macro_f1"].value == pytest.approx(f1_score(y_true[rows], y_pred[rows], average="macro"))
        assert result.metrics["macro_f1"].ci_low <= result.metrics["macro_f1"].value <= result.metrics["macro_f1"].ci_high


def test_score_outcome_uses_share_above_sample_median():
    rng = np.random.default_rng(2)
    n = 200
    score = rng.random(n)
    proba = np.column_stack([1 - score, score])
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n)})
    y_true = rng.integers(0, 2, n)
    audit = group_audit(y_true, proba.argmax(1), LABELS, sensitive,
                        FairnessConfig(favorable_label="approve", outcome_kind="score", n_boot=0, min_group_size=1),
                        proba=proba)
    median = np.median(score)
    assert audit.score_threshold == pytest.approx(median)
    for result in audit.groupings[0].groups:
        rows = sensitive["sex"].to_numpy() == result.group
        assert result.metrics["selection_rate"].value == pytest.approx(np.mean(score[rows] > median))


def test_outcome_configuration_errors_are_bad_input():
    with pytest.raises(BadInputError, match="not a label of the model"):
        resolve_outcomes(LABELS, FairnessConfig(favorable_label="granted"))
    with pytest.raises(BadInputError, match="no favorable outcome"):
        resolve_outcomes(LABELS, FairnessConfig())
    assert [o.name for o in resolve_outcomes(["a", "b", "c"], FairnessConfig())] == ["a", "b", "c"]
    assert resolve_outcomes(["a", "b", "c"], FairnessConfig(adverse_label="b"))[0].classes == (0, 2)


def test_ll144_two_percent_rule_is_separate_from_the_small_n_rule():
    """A group with 3.7% of rows (n=26) and the highest selection rate is below min_group_size: no verdict of its
    own, but LL144 lets only categories under 2% leave the impact ratio, so it is the reference; a 1.5% group is
    excluded from the reference and the verdict, and its counts are still reported."""
    rng = np.random.default_rng(4)
    sizes = {"big": 400, "mid": 277, "rare": 26, "tiny": 11}  # shares 56.6%, 39.2%, 3.7%, 1.6%
    rates = {"big": 0.40, "mid": 0.38, "rare": 0.65, "tiny": 0.90}
    groups = np.repeat(list(sizes), list(sizes.values()))
    y_pred = np.concatenate([(np.arange(n) < round(rates[g] * n)).astype(int) for g, n in sizes.items()])
    y_true = rng.integers(0, 2, len(groups))
    grouping = group_audit(y_true, y_pred, LABELS, pd.DataFrame({"race": groups}),
                           FairnessConfig(favorable_label="approve", n_boot=100, n_perm=100)).groupings[0]
    by = {g.group: g for g in grouping.groups}
    assert grouping.reference_group == "rare"
    assert by["rare"].small and not by["rare"].excluded and by["rare"].four_fifths_pass is None
    assert "too small for a verdict" in by["rare"].impact_ratio.note
    assert by["tiny"].excluded and by["tiny"].count == 11 and by["tiny"].four_fifths_pass is None
    assert "2% rule" in by["tiny"].impact_ratio.note
    # Impact ratios against the rare group's rate: both large groups fail the four-fifths rule.
    assert by["big"].impact_ratio.value == pytest.approx((160 / 400) / (17 / 26))
    assert grouping.four_fifths_failures == ["big", "mid"]


def test_adverse_class_of_a_multiclass_model_is_judged_on_its_complement():
    """Group B is denied less often than A: with `deny: adverse` it is the reference (most favorable), not a failure."""
    labels = ["deny", "approve", "refer"]
    rng = np.random.default_rng(8)
    n = 3000
    group = rng.choice(["A", "B"], n)
    deny = rng.random(n) < np.where(group == "A", 0.45, 0.15)
    y_pred = np.where(deny, 0, rng.integers(1, 3, n))
    y_true = rng.integers(0, 3, n)
    config = FairnessConfig(classes={"deny": "adverse", "approve": "favorable"}, n_boot=50, n_perm=50)
    audit = group_audit(y_true, y_pred, labels, pd.DataFrame({"g": group}), config)
    adverse = next(g for g in audit.groupings if g.direction == "adverse")
    assert adverse.outcome == "not deny" and adverse.reference_group == "B"
    assert adverse.four_fifths_failures == ["A"]
    naive = group_audit(y_true, y_pred, labels, pd.DataFrame({"g": group}),
                        FairnessConfig(classes_of_interest=["deny"], n_boot=0, n_perm=0))
    assert naive.groupings[0].four_fifths_failures == ["B"]  # the old reading: B 'fails' for being denied less
