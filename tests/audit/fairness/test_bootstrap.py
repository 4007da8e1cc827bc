"""Bootstrap intervals: reproducible, correct coverage on a known truth, and a planted bias detected (and not invented)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.core.config import FairnessConfig
from audit.fairness import group_audit
from audit.fairness._bootstrap import bootstrap_counts

LABELS = ["no", "yes"]


def _draw(rng, n_per_group: int, rates: dict[str, float]):
    groups = np.repeat(list(rates), n_per_group)
    y_pred = (rng.random(len(groups)) < np.array([rates[g] for g in groups])).astype(int)
    y_true = rng.integers(0, 2, len(groups))
    return y_true, y_pred, pd.DataFrame({"group": groups})


def _config(**kw) -> FairnessConfig:
    return FairnessConfig(favorable_label="yes", min_group_size=1, min_group_share=0.0, **kw)


def test_bootstrap_is_seeded_and_matches_the_multinomial_row_bootstrap():
    counts = np.array([[30, 10], [5, 55]])
    a = bootstrap_counts(counts, 400, 7)
    assert np.array_equal(a, bootstrap_counts(counts, 400, 7))
    assert not np.array_equal(a, bootstrap_counts(counts, 400, 8))
    assert (a.sum(axis=(1, 2)) == counts.sum()).all()
    # Row resampling with replacement: each cell count is Binomial(n, p_cell); compare the moments.
    n, p = counts.sum(), counts / counts.sum()
    assert np.allclose(a.mean(axis=0), n * p, rtol=0.1)
    assert np.allclose(a.var(axis=0), n * p * (1 - p), rtol=0.25)


def test_ci_coverage_on_known_truth():
    """Two groups with selection probabilities 0.30 and 0.45: the 95% interval of the selection rates' difference
    and of the lower group's rate should hold the truth in about 95% of independent samples."""
    rng = np.random.default_rng(2024)
    hits_diff = hits_rate = 0
    sims = 150
    for i in range(sims):
        y_true, y_pred, sensitive = _draw(rng, 300, {"a": 0.30, "b": 0.45})
        grouping = group_audit(y_true, y_pred, LABELS, sensitive, _config(n_boot=200, seed=i)).groupings[0]
        diff = grouping.disparities["demographic_parity_difference"]
        rate = grouping.groups[0].metrics["selection_rate"]
        hits_diff += diff.ci_low <= 0.15 <= diff.ci_high
        hits_rate += rate.ci_low <= 0.30 <= rate.ci_high
    assert 0.88 <= hits_diff / sims <= 0.99
    assert 0.88 <= hits_rate / sims <= 0.99


def test_planted_bias_is_detected_with_interval_excluding_zero():
    rng = np.random.default_rng(1)
    y_true, y_pred, sensitive = _draw(rng, 500, {"majority": 0.50, "minority": 0.30})
    grouping = group_audit(y_true, y_pred, LABELS, sensitive, _config(n_boot=200)).groupings[0]
    diff = grouping.disparities["demographic_parity_difference"]
    minority = grouping.groups[1]
    assert diff.ci_low > 0.05
    assert minority.impact_ratio.ci_high < 0.8 and minority.four_fifths_pass is False
    assert minority.one_person_flip is False


def test_unbiased_predictions_show_no_significant_disparity():
    rng = np.random.default_rng(1)
    y_true, y_pred, sensitive = _draw(rng, 500, {"majority": 0.40, "minority": 0.40})
    grouping = group_audit(y_true, y_pred, LABELS, sensitive, _config(n_boot=200)).groupings[0]
    other = next(g for g in grouping.groups if g.group != grouping.reference_group)
    # The non-reference group's impact ratio interval reaches 1 (no difference), and the test passes.
    assert other.impact_ratio.ci_low < 1.0 and other.impact_ratio.ci_high >= 1.0
    assert other.four_fifths_pass is True
    assert grouping.disparities["demographic_parity_ratio"].ci_high >= 0.99
