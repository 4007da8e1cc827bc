"""Policy evaluation on constructed run records: pass, warn, fail, not_run, on_missing, waivers, CI bound vs point."""
from __future__ import annotations

from datetime import date

import pytest
from section_builders import fairness, group, grouping

from audit.policy import CHECK_IDS, LoadedPolicy, evaluate_policy, load_policy, policy_from_text, policy_json_schema
from audit.record import (
    AttributionSection,
    ClassificationMetrics,
    CounterfactualSection,
    Estimate,
    FamilyResult,
    ResidualCheck,
    RunRecord,
    TrainingWaiver,
    TrainSection,
)
from audit.record.signoff import GENESIS, Approval, LedgerCheck, signoff_subject_sha256

TODAY = date(2026, 6, 1)


def record(**sections) -> RunRecord:
    return RunRecord(run_id="r1", **sections)


def policy(text: str) -> LoadedPolicy:
    return LoadedPolicy(policy=policy_from_text(text, source="test.yaml"), sha256="0" * 64, source="test.yaml")


def by_id(section, check_id: str):
    matches = [c for c in section.checks if c.id == check_id]
    assert len(matches) == 1, [c.id for c in section.checks]
    return matches[0]


IMPACT = """
name: t
checks:
  impact_ratio: {min: 0.8, severity: %s}
"""


def test_impact_ratio_fail_names_group_and_ratio():
    rec = record(fairness=fairness(grouping("age", [group("young", 500, 1.0), group("old", 200, 0.62, ci=(0.5, 0.74))])))
    section = evaluate_policy(rec, policy(IMPACT % "block"), today=TODAY)
    check = by_id(section, "impact_ratio:age")
    assert (check.status, check.effect, section.verdict) == ("fail", "block", "fail")
    assert check.measured == pytest.approx(0.62) and check.threshold == 0.8
    assert check.subject == "age=old" and "impact ratio 0.620" in check.evidence and "0.500–0.740" in check.evidence
    assert check.basis == "point estimate" and (check.ci_low, check.ci_high) == (0.5, 0.74)


def test_warn_severity_gives_warn_not_fail():
    rec = record(fairness=fairness(grouping("age", [group("young", 500, 1.0), group("old", 200, 0.62)])))
    section = evaluate_policy(rec, policy(IMPACT % "warn"), today=TODAY)
    assert (by_id(section, "impact_ratio:age").status, section.verdict) == ("warn", "warn")


def test_pass_picks_worst_eligible_group_and_skips_small_and_unknown():
    groups = [group("a", 500, 1.0), group("b", 300, 0.85), group("tiny", 10, 0.1, small=True),
              group("under_policy_min", 20, 0.2), group("unknown", 100, 0.3)]
    groups[-1].unknown = True
    section = evaluate_policy(record(fairness=fairness(grouping("f", groups))), policy(IMPACT % "block"), today=TODAY)
    check = by_id(section, "impact_ratio:f")
    assert (check.status, check.measured, check.subject) == ("pass", 0.85, "f=b")
    for excluded in ("tiny (small, n=10)", "under_policy_min (small, n=20)", "unknown (missing value"):
        assert excluded in check.evidence
    assert section.verdict == "pass"


def test_policy_min_group_size_is_respected():
    rec = record(fairness=fairness(grouping("f", [group("a", 500, 1.0), group("b", 40, 0.5)])))
    low = evaluate_policy(rec, policy("name: t\nmin_group_size: 30\nchecks: {impact_ratio: {}}"), today=TODAY)
    high = evaluate_policy(rec, policy("name: t\nmin_group_size: 50\nchecks: {impact_ratio: {}}"), today=TODAY)
    assert by_id(low, "impact_ratio:f").status == "fail"
    assert by_id(high, "impact_ratio:f").status == "pass"


def test_ci_bound_vs_point_estimate():
    rec = record(fairness=fairness(grouping("f", [group("a", 500, 1.0, ci=(0.9, 1.1)),
                                                  group("b", 300, 0.85, ci=(0.72, 0.97))],
                                            dp=Estimate(value=0.08, ci_low=0.03, ci_high=0.13))))
    text = "name: t\nuse_ci_bound: %s\nchecks: {impact_ratio: {}, demographic_parity_difference: {max: 0.1}}"
    point = evaluate_policy(rec, policy(text % "false"), today=TODAY)
    bound = evaluate_policy(rec, policy(text % "true"), today=TODAY)
    assert by_id(point, "impact_ratio:f").status == "pass"
    ir = by_id(bound, "impact_ratio:f")
    assert (ir.status, ir.measured, ir.basis) == ("fail", 0.72, "CI lower bound")
    dp_point, dp_bound = by_id(point, "demographic_parity_difference:f"), by_id(bound, "demographic_parity_difference:f")
    assert (dp_point.status, dp_point.measured) == ("pass", 0.08)
    assert (dp_bound.status, dp_bound.measured, dp_bound.basis) == ("fail", 0.13, "CI upper bound")
    # a per-check setting overrides the policy default
    mixed = evaluate_policy(rec, policy("name: t\nuse_ci_bound: true\nchecks: {impact_ratio: {use_ci_bound: false}}"),
                            today=TODAY)
    assert by_id(mixed, "impact_ratio:f").status == "pass"


def test_ci_bound_without_ci_falls_back_to_point_and_says_so():
    rec = record(fairness=fairness(grouping("f", [group("a", 500, 1.0), group("b", 300, 0.85)])))
    check = by_id(evaluate_policy(rec, policy("name: t\nuse_ci_bound: true\nchecks: {impact_ratio: {}}"), today=TODAY),
                  "impact_ratio:f")
    assert check.status == "pass" and "no CI" in check.basis


def test_disparities_and_undefined_values():
    rec = record(fairness=fairness(grouping("f", [group("a", 500, 1.0), group("b", 300, 0.9)],
                                            dp=Estimate(value=0.04), eo=Estimate(value=None, note="no positives in b"))))
    section = evaluate_policy(rec, policy("name: t\nchecks: {demographic_parity_difference: {max: 0.03}, "
                                          "equalized_odds_difference: {max: 0.1, on_missing: warn}}"), today=TODAY)
    assert by_id(section, "demographic_parity_difference:f").status == "fail"
    eo = by_id(section, "equalized_odds_difference:f")
    assert (eo.status, eo.effect) == ("not_run", "warn") and "no positives in b" in eo.evidence


def test_feature_filter_and_intersections_and_multiclass_subjects():
    rec = record(fairness=fairness(
        grouping("age", [group("a", 500, 1.0), group("b", 300, 0.5)], outcome="billing"),
        grouping("age", [group("a", 500, 1.0), group("b", 300, 0.9)], outcome="fraud"),
        grouping("age × sex", [group("a × m", 500, 1.0), group("b × f", 300, 0.5)], outcome="fraud"),
        grouping("sex", [group("m", 500, 1.0), group("f", 300, 0.5)], outcome="fraud")))
    section = evaluate_policy(rec, policy("name: t\nchecks: {impact_ratio: {features: [age, 'age × sex'], "
                                          "intersections: false}}"), today=TODAY)
    assert [c.id for c in section.checks] == ["impact_ratio:age [billing]", "impact_ratio:age [fraud]"]
    assert [c.status for c in section.checks] == ["fail", "pass"]


@pytest.mark.parametrize("on_missing,status,effect,verdict", [
    ("fail", "not_run", "block", "fail"), ("warn", "not_run", "warn", "warn"), ("ignore", "not_run", "none", "pass")])
def test_missing_section_follows_on_missing(on_missing, status, effect, verdict):
    section = evaluate_policy(record(), policy(f"name: t\non_missing: {on_missing}\nchecks: {{impact_ratio: {{}}}}"),
                              today=TODAY)
    check = by_id(section, "impact_ratio")
    assert (check.status, check.effect, section.verdict) == (status, effect, verdict)
    assert "no fairness section" in check.evidence


def test_no_eligible_group_is_not_run():
    rec = record(fairness=fairness(grouping("f", [group("a", 10, 1.0, small=True), group("b", 5, 0.2, small=True)])))
    check = by_id(evaluate_policy(rec, policy("name: t\nchecks: {impact_ratio: {on_missing: ignore}}"), today=TODAY),
                  "impact_ratio:f")
    assert check.status == "not_run" and "no group large enough" in check.evidence


WAIVED = """
name: t
checks: {impact_ratio: {}, macro_f1: {min: 0.9}}
waivers:
  - {check: %s, owner: jane@example.com, reason: "remediation ticket RISK-1", expires: %s}
"""


@pytest.mark.parametrize("target", ["impact_ratio", "impact_ratio:age"])
def test_valid_waiver_downgrades_block_to_warn(target):
    rec = record(fairness=fairness(grouping("age", [group("a", 500, 1.0), group("b", 300, 0.5)]), macro_f1=0.95))
    section = evaluate_policy(rec, policy(WAIVED % (target, "2026-06-01")), today=TODAY)
    check = by_id(section, "impact_ratio:age")
    assert (check.status, check.effect, section.verdict) == ("warn", "warn", "warn")
    assert "jane@example.com" in check.waiver and "RISK-1" in check.waiver
    assert section.expired_waivers == []


def test_waiver_applies_only_to_named_check_and_subject():
    rec = record(fairness=fairness(grouping("age", [group("a", 500, 1.0), group("b", 300, 0.5)]),
                                   grouping("sex", [group("m", 500, 1.0), group("f", 300, 0.5)]), macro_f1=0.5))
    section = evaluate_policy(rec, policy(WAIVED % ("impact_ratio:age", "2027-01-01")), today=TODAY)
    assert by_id(section, "impact_ratio:age").status == "warn"
    assert by_id(section, "impact_ratio:sex").status == "fail"
    assert by_id(section, "macro_f1").status == "fail" and section.verdict == "fail"


def test_expired_waiver_is_ignored_and_reported():
    rec = record(fairness=fairness(grouping("age", [group("a", 500, 1.0), group("b", 300, 0.5)]), macro_f1=0.95))
    section = evaluate_policy(rec, policy(WAIVED % ("impact_ratio", "2026-05-31")), today=TODAY)
    check = by_id(section, "impact_ratio:age")
    assert (check.status, check.waiver, section.verdict) == ("fail", None, "fail")
    assert len(section.expired_waivers) == 1 and "2026-05-31" in section.expired_waivers[0]


def test_expired_waiver_alone_makes_verdict_warn():
    rec = record(fairness=fairness(grouping("age", [group("a", 500, 1.0), group("b", 300, 0.9)]), macro_f1=0.95))
    section = evaluate_policy(rec, policy(WAIVED % ("impact_ratio", "2020-01-01")), today=TODAY)
    assert all(c.status == "pass" for c in section.checks) and section.verdict == "warn"


def test_probe_checks_training_and_scrub_checks():
    from record_factory import make_record

    full = make_record(run_id="r2")
    text = ("name: t\nchecks: {counterfactual_flip_rate: {max: 0.04}, sensitive_token_reliance: {max: 0.01}, "
            "residual_pii: {}, no_training_waiver: {}, macro_f1: {min: 0.5}}")
    section = evaluate_policy(full, policy(text), today=TODAY)
    statuses = {c.id: c.status for c in section.checks}
    worst = max(full.counterfactual.families, key=lambda f: f.flip_rate.value)
    assert statuses[f"counterfactual_flip_rate:{worst.family}"] == ("fail" if worst.flip_rate.value > 0.04 else "pass")
    assert statuses["sensitive_token_reliance"] == "fail"
    assert statuses["residual_pii"] == ("pass" if not sum(full.scrub.residual.found.values()) else "fail")
    assert statuses["no_training_waiver"] == ("pass" if full.train.waiver is None else "fail")
    assert statuses["macro_f1"] == "pass"

    full.scrub.residual = ResidualCheck(passed=False, rows_scanned=100, found={"EMAIL_ADDRESS": 2, "PERSON": 1})
    full.train.waiver = TrainingWaiver(reason="vendor data already anonymised", by="ops", at="2026-01-01T00:00:00")
    again = evaluate_policy(full, policy(text), today=TODAY)
    pii, waiver = by_id(again, "residual_pii"), by_id(again, "no_training_waiver")
    assert (pii.status, pii.measured) == ("fail", 3) and "EMAIL_ADDRESS=2" in pii.evidence
    assert waiver.status == "fail" and "vendor data already anonymised" in waiver.evidence


def test_macro_f1_falls_back_to_train_test_split():
    train = TrainSection(base_model="minilm", model_artifact="model", task="binary", labels=["a", "b"], seed=1,
                         test=ClassificationMetrics(n=50, accuracy=0.6, macro_f1=0.55))
    check = by_id(evaluate_policy(record(train=train), policy("name: t\nchecks: {macro_f1: {min: 0.6}}"), today=TODAY),
                  "macro_f1")
    assert check.status == "fail" and "training test split" in check.evidence


def test_counterfactual_family_without_swaps_is_not_run():
    family = FamilyResult(family="gender", n_examples=10, n_swapped=0, flip_rate=Estimate(note="nothing swapped"),
                          mean_abs_shift=Estimate(), max_abs_shift=0.0)
    rec = record(counterfactual=CounterfactualSection(target="relief", families=[family]))
    check = by_id(evaluate_policy(rec, policy("name: t\nchecks: {counterfactual_flip_rate: {}}"), today=TODAY),
                  "counterfactual_flip_rate:gender")
    assert check.status == "not_run"


def test_reliance_uses_upper_bound_when_asked():
    attribution = AttributionSection(n_steps=8, n_examples=16, mean_relative_delta=0.01, large_delta_count=0,
                                     reliance_share=Estimate(value=0.05, ci_low=0.02, ci_high=0.12))
    rec = record(attribution=attribution)
    text = "name: t\nchecks: {sensitive_token_reliance: {max: 0.1, use_ci_bound: %s}}"
    assert by_id(evaluate_policy(rec, policy(text % "false"), today=TODAY), "sensitive_token_reliance").status == "pass"
    assert by_id(evaluate_policy(rec, policy(text % "true"), today=TODAY), "sensitive_token_reliance").status == "fail"


class FakeLedger:
    def __init__(self, approved: set[tuple[str, str]]):
        self.approved_pairs = approved

    def verify(self, expect_head=None) -> LedgerCheck:
        return LedgerCheck(entries=len(self.approved_pairs), head=GENESIS)

    def approval(self, run_id: str, subject_sha256: str, **rules) -> Approval:
        ok = (run_id, subject_sha256) in self.approved_pairs
        return Approval(ok, "approved by ana" if ok else "no reviewer approval bound to this evidence")


def test_signoff_is_bound_to_the_evidence_not_the_policy_section():
    rec = record(fairness=fairness(grouping("f", [group("a", 500, 1.0), group("b", 300, 0.9)])))
    subject = signoff_subject_sha256(rec)
    text = "name: t\nchecks: {reviewer_signoff: {}}"
    assert by_id(evaluate_policy(rec, policy(text), today=TODAY), "reviewer_signoff").status == "not_run"
    assert by_id(evaluate_policy(rec, policy(text), signoff=FakeLedger(set()), today=TODAY),
                 "reviewer_signoff").status == "fail"
    ledger = FakeLedger({("r1", subject)})
    rec.policy = evaluate_policy(rec, policy(text), signoff=ledger, today=TODAY)
    assert rec.policy.checks[0].status == "pass" and rec.policy.signoff_subject_sha256 == subject
    rec.updated_at = "2030-01-01T00:00:00+00:00"
    assert signoff_subject_sha256(rec) == subject  # writing the policy section does not void the approval
    rec.fairness.groupings[0].groups[1].impact_ratio.value = 0.7
    assert signoff_subject_sha256(rec) != subject  # changing the evidence does
    assert evaluate_policy(rec, policy(text), signoff=ledger, today=TODAY).checks[0].status == "fail"


@pytest.mark.parametrize("name", ["default", "strict", "lenient", "ner"])
def test_shipped_policies_load_and_cite_a_source_for_every_check(name):
    loaded = load_policy(name)
    assert loaded.source == f"builtin:{name}" and len(loaded.sha256) == 64
    for check_id, cfg in loaded.policy.checks.enabled().items():
        assert check_id in CHECK_IDS and cfg.source, check_id


def test_default_policy_uses_four_fifths_and_strict_is_stricter():
    default, strict = load_policy("default").policy, load_policy("strict").policy
    assert default.checks.impact_ratio.min == 0.8 and not default.use_ci_bound and strict.use_ci_bound
    assert strict.checks.demographic_parity_difference.max < default.checks.demographic_parity_difference.max
    assert strict.checks.reviewer_signoff.severity == "block"


def test_json_schema_forbids_unknown_keys():
    schema = policy_json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["$defs"]["Checks"]["properties"]) == set(CHECK_IDS)
