"""Use-case presets: every shipped policy loads and cites sources; checks follow each class's direction."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.core.config import FairnessConfig
from audit.fairness import fairness_section
from audit.policy import BUILTIN_POLICIES, CHECK_IDS, evaluate_policy, load_policy
from audit.record import RunRecord


def _record(section) -> RunRecord:
    return RunRecord(run_id="r1", fairness=section)


def _checks(record: RunRecord, name: str, check: str) -> list:
    return [c for c in evaluate_policy(record, load_policy(name)).checks if c.id.split(":", 1)[0] == check]


@pytest.mark.parametrize("name", BUILTIN_POLICIES)
def test_every_preset_loads_names_its_use_case_and_cites_sources(name):
    policy = load_policy(name).policy
    assert policy.rationale and policy.use_case in ("general", "employment", "lending", "moderation", "routing")
    for check_id, cfg in policy.checks.enabled().items():
        assert check_id in CHECK_IDS and cfg.source, (name, check_id)
    if name in ("moderation", "routing"):
        assert policy.checks.impact_ratio is None and policy.checks.demographic_parity_difference is None


def _moderation(seed: int, flag_clean_b: float):
    """Dialect B has a higher abusive base rate (0.40 vs 0.15); the model flags 90% of abusive texts in both groups and
    non-abusive texts at 5% in A and `flag_clean_b` in B."""
    rng = np.random.default_rng(seed)
    n = 4000
    dialect = rng.choice(["A", "B"], n)
    abusive = rng.random(n) < np.where(dialect == "A", 0.15, 0.40)
    flagged = np.where(abusive, rng.random(n) < 0.9, rng.random(n) < np.where(dialect == "A", 0.05, flag_clean_b))
    labels = ["neither", "abusive"]
    section = fairness_section(y_true=abusive.astype(int), y_pred=flagged.astype(int), labels=labels,
                               sensitive=pd.DataFrame({"dialect": dialect}),
                               config=FairnessConfig(adverse_label="abusive", use_case="moderation", n_boot=200,
                                                     n_perm=500))
    fpr = {g: np.mean(flagged[(dialect == g) & ~abusive]) for g in "AB"}
    return _record(section), abs(fpr["A"] - fpr["B"])


def test_moderation_judges_wrongful_flags_not_flag_rates():
    record, fpr_range = _moderation(0, flag_clean_b=0.05)
    # Flag rates differ through base rates alone: the employment-style default blocks, moderation does not.
    assert any(c.status == "fail" for c in _checks(record, "default", "impact_ratio"))
    (fpr_check,) = _checks(record, "moderation", "false_positive_rate_difference")
    assert fpr_check.status == "pass" and fpr_check.measured == pytest.approx(fpr_range, abs=1e-6)
    assert "adverse class" in fpr_check.evidence
    record, fpr_range = _moderation(1, flag_clean_b=0.15)
    (fpr_check,) = _checks(record, "moderation", "false_positive_rate_difference")
    assert fpr_check.status == "fail" and fpr_check.measured == pytest.approx(fpr_range, abs=1e-6)
    tests = {c.subject: c for c in _checks(record, "moderation", "disparity_test")}
    assert tests["dialect/fpr"].status == "warn" and tests["dialect/tpr"].status == "pass"
    assert "no evidence of disparity" in tests["dialect/tpr"].evidence


def _routing(seed: int):
    """Seven routing classes whose frequencies differ by group (base rates), recall equal across groups."""
    rng = np.random.default_rng(seed)
    n = 6000
    labels = [f"c{i}" for i in range(7)]
    group = rng.choice(["x", "y"], n)
    weights = {"x": np.array([3, 1, 1, 1, 1, 1, 1.0]), "y": np.array([1, 1, 1, 1, 1, 1, 3.0])}
    y_true = np.array([rng.choice(7, p=weights[g] / weights[g].sum()) for g in group])
    y_pred = np.where(rng.random(n) < 0.8, y_true, rng.integers(0, 7, n))
    config = FairnessConfig(classes={c: "neutral" for c in labels}, use_case="routing", n_boot=100, n_perm=200,
                            min_group_size=10)
    section = fairness_section(y_true=y_true, y_pred=y_pred, labels=labels, sensitive=pd.DataFrame({"g": group}),
                               config=config)
    return _record(section)


def test_routing_classes_get_no_selection_verdicts_but_recall_parity():
    record = _routing(0)
    assert all(g.direction == "neutral" and not g.four_fifths_failures for g in record.fairness.groupings)
    assert all(r.impact_ratio is None for g in record.fairness.groupings for r in g.groups)
    (not_run,) = _checks(record, "default", "impact_ratio")  # nothing to judge: not applicable, not 9 failures
    assert not_run.status == "not_run" and not_run.effect == "none" and "not applicable" in not_run.evidence
    recall = _checks(record, "routing", "true_positive_rate_difference")
    assert len(recall) == 7 and all(c.status == "pass" for c in recall)
    assert len(_checks(record, "routing", "misrouting_rate")) == 7


def test_employment_preset_keeps_the_four_fifths_block():
    rng = np.random.default_rng(3)
    n = 2000
    sex = rng.choice(["female", "male"], n)
    y_pred = (rng.random(n) < np.where(sex == "female", 0.25, 0.45)).astype(int)
    section = fairness_section(y_true=rng.integers(0, 2, n), y_pred=y_pred, labels=["reject", "advance"],
                               sensitive=pd.DataFrame({"sex": sex}),
                               config=FairnessConfig(favorable_label="advance", n_boot=200, n_perm=500))
    section_policy = evaluate_policy(_record(section), load_policy("employment"))
    assert section_policy.use_case == "employment" and "four-fifths" in section_policy.rationale
    assert section_policy.verdict == "fail"
    assert {c.id.split(":")[0] for c in section_policy.checks if c.status == "fail"} == {"impact_ratio"}
