"""Policy checks of token classifiers and the scrubber certificate: entity_f1, entity_recall_parity, pii_recall."""
from __future__ import annotations

from datetime import date

import entity_builders
import pytest

from audit.policy import LoadedPolicy, evaluate_policy, load_policy, policy_from_text
from audit.record import RunRecord
from audit.record.signoff import signoff_subject_sha256

TODAY = date(2026, 6, 1)


def _policy(text: str) -> LoadedPolicy:
    return LoadedPolicy(policy=policy_from_text(text, source="t.yaml"), sha256="0" * 64, source="t.yaml")


def _entities(micro: float, per: dict[str, float]):
    return entity_builders.entities(micro, per)


def _parity(ratio: float):
    return entity_builders.parity(ratio)


def _pii(recalls: dict[str, tuple[float, int]]):
    return entity_builders.pii(recalls)


def test_entity_f1_judges_micro_and_listed_types():
    text = "name: t\nchecks:\n  entity_f1: {min: 0.8, entities: [PER, LOC]}\n"
    rec = RunRecord(run_id="r", entities=_entities(0.85, {"PER": 0.9, "LOC": 0.7}))
    section = evaluate_policy(rec, _policy(text), today=TODAY)
    status = {c.id: c.status for c in section.checks}
    assert status == {"entity_f1:micro": "pass", "entity_f1:PER": "pass", "entity_f1:LOC": "fail"}
    assert section.verdict == "fail"
    ci = evaluate_policy(rec, _policy(text.replace("entities: [PER, LOC]", "use_ci_bound: true, min: 0.82")),
                         today=TODAY)
    assert ci.checks[0].status == "fail" and ci.checks[0].measured == pytest.approx(0.80)


@pytest.mark.parametrize("ratio, status", [(0.9, "pass"), (0.6, "fail")])
def test_entity_recall_parity_fails_below_min_ratio(ratio, status):
    text = "name: t\nchecks:\n  entity_recall_parity: {min_ratio: 0.8}\n"
    section = evaluate_policy(RunRecord(run_id="r", entity_parity=_parity(ratio)), _policy(text), today=TODAY)
    [check] = section.checks
    assert check.status == status and check.subject == "names_gender=female" and "female names" in check.evidence


def test_entity_recall_parity_says_all_equal_when_every_group_ties():
    tied = _parity(1.0)
    tied.families[0].lowest_group = tied.families[0].highest_group = "male"  # argmin and argmax of a tie
    text = "name: t\nchecks:\n  entity_recall_parity: {min_ratio: 0.8}\n"
    [check] = evaluate_policy(RunRecord(run_id="r", entity_parity=tied), _policy(text), today=TODAY).checks
    assert check.status == "pass" and "all equal" in check.evidence and "male names / male" not in check.evidence


@pytest.mark.parametrize("female, status", [(0.05, "pass"), (0.3, "fail")])
def test_span_flip_rate_judges_the_highest_group_of_each_family(female, status):
    text = "name: t\nchecks:\n  span_flip_rate: {max: 0.1}\n"
    section = evaluate_policy(RunRecord(run_id="r", span_flips=entity_builders.flips(female)), _policy(text), today=TODAY)
    [check] = section.checks
    assert check.id == "span_flip_rate:names_gender" and check.status == status
    assert check.subject == "names_gender=female" and check.measured == pytest.approx(female)
    ci = evaluate_policy(RunRecord(run_id="r", span_flips=entity_builders.flips(0.08)),
                         _policy(text.replace("max: 0.1", "max: 0.1, use_ci_bound: true")), today=TODAY)
    assert ci.checks[0].status == "fail" and ci.checks[0].measured == pytest.approx(0.13)


@pytest.mark.parametrize("share, status", [(0.1, "pass"), (0.3, "fail")])
def test_span_name_reliance_judges_the_weighted_name_share(share, status):
    text = "name: t\nchecks:\n  span_name_reliance: {max: 0.2}\n"
    rec = RunRecord(run_id="r", span_attribution=entity_builders.span_attribution(share))
    [check] = evaluate_policy(rec, _policy(text), today=TODAY).checks
    assert check.status == status and "20 non-PER spans" in check.evidence


def test_pii_recall_gates_listed_entities_and_skips_small_support():
    text = "name: t\nchecks:\n  pii_recall: {min: 0.95, entities: [EMAIL_ADDRESS, PHONE_NUMBER, US_SSN], min_support: 5}\n"
    rec = RunRecord(run_id="r", pii_evaluation=_pii({"EMAIL_ADDRESS": (0.99, 40), "PHONE_NUMBER": (0.7, 40),
                                                      "US_SSN": (1.0, 2)}))
    section = evaluate_policy(rec, _policy(text), today=TODAY)
    status = {c.id: c.status for c in section.checks}
    assert status == {"pii_recall:EMAIL_ADDRESS": "pass", "pii_recall:PHONE_NUMBER": "fail",
                      "pii_recall:US_SSN": "not_run"}


def test_missing_sections_are_not_run_and_the_ner_policy_loads():
    loaded = load_policy("ner")
    section = evaluate_policy(RunRecord(run_id="r"), loaded, today=TODAY)
    by_id = {c.id: c for c in section.checks}
    assert by_id["entity_f1"].status == "not_run" and by_id["entity_f1"].effect == "block"
    assert by_id["pii_recall"].effect == "none"
    assert by_id["span_flip_rate"].status == "not_run" and by_id["span_flip_rate"].effect == "warn"
    assert by_id["span_name_reliance"].severity == "warn"


def test_absent_new_sections_do_not_change_the_signoff_hash():
    rec = RunRecord(run_id="r", created_at="2026-01-01T00:00:00+00:00")
    data = rec.model_dump(mode="json")
    for key in ("entities", "entity_parity", "span_flips", "span_attribution", "pii_evaluation", "monitoring"):
        data.pop(key)
    if not data.get("artifacts"):
        data.pop("artifacts", None)
    import json

    from audit.core.io import sha256_bytes

    data.pop("policy")
    data.pop("updated_at")
    assert signoff_subject_sha256(rec) == sha256_bytes(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
