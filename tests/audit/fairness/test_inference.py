"""Disparity inference on simulated truth: intervals of signed differences cover 0 when there is no bias, the
'any disparity' tests hold their level (with Holm across groupings and intersections) and detect planted bias with
the power a two-proportion z-test predicts. Seeded; bands are tolerant (binomial spread of the simulation count)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, fisher_exact, norm

from audit.core.config import FairnessConfig
from audit.fairness import group_audit
from audit.fairness._inference import adjust, fisher_two_sided, permutation_pvalue

LABELS = ["no", "yes"]
SIMS = 200


def _config(**kw) -> FairnessConfig:
    return FairnessConfig(**{"favorable_label": "yes", "min_group_size": 1, "min_group_share": 0.0, **kw})


def _two_groups(rng, n: int, rate_a: float, rate_b: float):
    groups = np.repeat(["a", "b"], n)
    rates = np.where(groups == "a", rate_a, rate_b)
    y_pred = (rng.random(2 * n) < rates).astype(int)
    return rng.integers(0, 2, 2 * n), y_pred, pd.DataFrame({"group": groups})


def test_fisher_matches_scipy_and_corrections_match_hand_values():
    for table in ([[3, 7], [9, 2]], [[30, 270], [45, 255]], [[0, 12], [5, 5]], [[120, 380], [150, 350]]):
        (a, b), (c, d) = table
        expected = fisher_exact(table).pvalue
        assert fisher_two_sided(a, a + b, a + c, a + b + c + d) == pytest.approx(expected, rel=1e-9)
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    assert adjust(p, "holm")[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust(p, "bh")[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert np.isnan(adjust(p, "holm")[4])


def test_permutation_pvalue_agrees_with_the_chi_square_approximation_on_a_large_table():
    successes, trials = np.array([120, 150, 90]), np.array([500, 500, 400])
    table = np.stack([successes, trials - successes], axis=1)
    expected = chi2_contingency(table, correction=False).pvalue
    _, p = permutation_pvalue([(successes, trials)], 4000, np.random.default_rng(0))
    assert p == pytest.approx(expected, abs=0.02)


def test_unbiased_sets_cover_zero_and_tests_hold_their_level():
    rng = np.random.default_rng(2026)
    covered = ratio_covered = rejected = 0
    for i in range(SIMS):
        y_true, y_pred, sensitive = _two_groups(rng, 300, 0.4, 0.4)
        grouping = group_audit(y_true, y_pred, LABELS, sensitive, _config(seed=i)).groupings[0]
        other = next(g for g in grouping.groups if g.group != grouping.reference_group)
        diff, ratio = other.differences["selection_rate"], other.ratios["selection_rate"]
        covered += diff.ci_low <= 0 <= diff.ci_high
        ratio_covered += ratio.ci_low <= 1 <= ratio.ci_high
        rejected += grouping.tests["selection_rate"].p_value < 0.05
    # 95% nominal; with 200 runs the binomial standard error is 1.5 points.
    assert 0.91 <= covered / SIMS <= 0.985
    assert 0.91 <= ratio_covered / SIMS <= 0.985
    assert rejected / SIMS <= 0.09


def test_holm_keeps_the_familywise_error_across_groupings_and_intersections():
    rng = np.random.default_rng(7)
    false_alarms = 0
    n = 1200
    for i in range(SIMS):
        sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "race": rng.choice(["p", "q", "r"], n)})
        y_pred = (rng.random(n) < 0.35).astype(int)
        audit = group_audit(rng.integers(0, 2, n), y_pred, LABELS, sensitive, _config(seed=i, n_boot=0))
        tests = [g.tests["selection_rate"] for g in audit.groupings]
        assert len(tests) == 3 and all(t.p_adjusted >= t.p_value for t in tests)
        false_alarms += any(t.p_adjusted < 0.05 for t in tests)
        if not any(t.p_adjusted < 0.05 for t in tests):
            assert all(t.conclusion.startswith("no evidence of disparity") for t in tests)
    assert false_alarms / SIMS <= 0.08


@pytest.mark.parametrize("rate_b, power_band", [(0.50, (0.55, 0.83)), (0.55, (0.93, 1.0))])
def test_planted_bias_is_detected_with_the_predicted_power(rate_b, power_band):
    """0.40 vs rate_b, 300 rows per group, two-sided level 0.05. The asymptotic two-proportion z-test's power is
    Phi(|d|/se - 1.96): about 0.70 for 0.40 vs 0.50 and 0.96 for 0.40 vs 0.55; the conditional (exact-type)
    permutation test is a few points less powerful (0.60 and 0.96 in bench/sim_fairness_inference.py)."""
    d = rate_b - 0.40
    se = np.sqrt(0.40 * 0.60 / 300 + rate_b * (1 - rate_b) / 300)
    predicted = norm.cdf(abs(d) / se - norm.ppf(0.975))
    assert power_band[0] <= predicted <= power_band[1]
    rng = np.random.default_rng(11)
    detected = excluded_zero = 0
    for i in range(SIMS):
        y_true, y_pred, sensitive = _two_groups(rng, 300, 0.40, rate_b)
        grouping = group_audit(y_true, y_pred, LABELS, sensitive, _config(seed=i)).groupings[0]
        detected += grouping.tests["selection_rate"].p_value < 0.05
        other = next(g for g in grouping.groups if g.group != grouping.reference_group)
        excluded_zero += other.differences["selection_rate"].ci_high < 0
    assert power_band[0] <= detected / SIMS <= power_band[1]
    assert abs(excluded_zero - detected) / SIMS <= 0.06  # the interval and the test agree


def test_bh_correction_is_never_stricter_than_holm_and_is_recorded():
    rng = np.random.default_rng(21)
    n = 1500
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "race": rng.choice(["p", "q", "r"], n)})
    y_pred = (rng.random(n) < np.where(sensitive["race"] == "r", 0.25, 0.35)).astype(int)
    y_true = rng.integers(0, 2, n)
    holm = group_audit(y_true, y_pred, LABELS, sensitive, _config(n_boot=0))
    bh = group_audit(y_true, y_pred, LABELS, sensitive, _config(n_boot=0, correction="bh"))
    for a, b in zip(holm.groupings, bh.groupings):
        assert a.tests["selection_rate"].p_value == b.tests["selection_rate"].p_value
        assert b.tests["selection_rate"].p_adjusted <= a.tests["selection_rate"].p_adjusted + 1e-12
        assert "bh-adjusted" in b.tests["selection_rate"].conclusion
        for ga, gb in zip(a.groups, b.groups):
            if ga.tests["selection_rate"].p_adjusted is not None:
                assert gb.tests["selection_rate"].p_adjusted <= ga.tests["selection_rate"].p_adjusted + 1e-12
