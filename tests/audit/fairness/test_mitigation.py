"""ThresholdOptimizer mitigation: disparity shrinks, thresholds serve exactly as fairlearn would, errors are clear."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audit.core.config import FairnessConfig
from audit.core.errors import BadInputError
from audit.fairness import apply_thresholds, group_names, mitigate_threshold
from audit.fairness._mitigation import fit_threshold_optimizer, thresholds_payload

LABELS = ["no", "yes"]


def _biased_scores(n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n)
    y = rng.integers(0, 2, n)
    score = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.2, n) - 0.15 * (sex == "female"), 0, 1)
    return y, np.column_stack([1 - score, score]), pd.DataFrame({"sex": sex})


@pytest.mark.parametrize("constraint, metric", [("demographic_parity", "demographic_parity_difference"),
                                                ("equalized_odds", "equalized_odds_difference")])
def test_threshold_mitigation_reduces_the_constrained_disparity(constraint, metric):
    y, proba, sensitive = _biased_scores()
    result, payload = mitigate_threshold(proba=proba, y_true=y, y_pred=proba.argmax(1), labels=LABELS,
                                         sensitive=sensitive, config=FairnessConfig(favorable_label="yes", n_boot=50),
                                         constraint=constraint)
    assert result.n_calibration + result.n_evaluation == len(y)
    assert result.after[metric].value < result.before[metric].value / 2
    assert result.accuracy_cost == pytest.approx(result.before["accuracy"].value - result.after["accuracy"].value)
    assert set(payload["groups"]) == {"female", "male"} and payload["constraint"] == constraint
    json.dumps(payload)  # serialisable as the thresholds artifact


def test_saved_thresholds_serve_like_fairlearn():
    y, proba, sensitive = _biased_scores(seed=1)
    score, groups = proba[:, 1], group_names(sensitive)
    optimizer = fit_threshold_optimizer(score, y, groups, "demographic_parity")
    payload = thresholds_payload(optimizer, constraint="demographic_parity", labels=LABELS, favorable=["yes"],
                                 features=["sex"], separator=" × ", unknown_group="unknown", seed=0)
    payload = json.loads(json.dumps(payload))  # as read back from thresholds.json
    expected = optimizer._pmf_predict(score[:, None], sensitive_features=pd.Series(groups))[:, 1]
    assert np.allclose(apply_thresholds(score, groups, payload, return_probability=True), expected)
    decisions = apply_thresholds(score, groups, payload, random_state=3)
    assert np.array_equal(decisions, apply_thresholds(score, groups, payload, random_state=3))
    with pytest.raises(BadInputError, match="no fitted threshold"):
        apply_thresholds(score[:2], np.array(["nonbinary", "male"]), payload)


def test_mitigation_needs_both_outcomes():
    with pytest.raises(BadInputError, match="single outcome"):
        fit_threshold_optimizer(np.array([0.2, 0.7, 0.4]), np.array([1, 1, 1]), np.array(["a", "b", "a"]),
                                "demographic_parity")
