"""Entity metrics: strict equals seqeval's strict IOB2 report, partial credits overlaps, bootstrap CIs."""
from __future__ import annotations

import pytest
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from audit.record.entity_metrics import entity_metrics

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-PER", "O", "O"], ["B-LOC", "I-LOC", "O", "O"]] * 10
PRED = [["B-PER", "O", "O", "B-LOC"], ["O", "B-PER", "O", "B-LOC"], ["I-LOC", "I-LOC", "O", "O"]] * 10


def test_strict_matches_seqeval_strict_report():
    report = classification_report(GOLD, PRED, mode="strict", scheme=IOB2, output_dict=True)
    metrics = entity_metrics(GOLD, PRED, "strict", n_boot=0)
    for kind in ("PER", "LOC"):
        score = metrics.per_entity[kind]
        assert score.precision.value == pytest.approx(report[kind]["precision"])
        assert score.recall.value == pytest.approx(report[kind]["recall"])
        assert score.f1.value == pytest.approx(report[kind]["f1-score"])
        assert score.support == report[kind]["support"]
    assert metrics.micro.f1.value == pytest.approx(report["micro avg"]["f1-score"])


def test_partial_credits_boundary_errors_and_ill_formed_starts():
    strict = entity_metrics(GOLD, PRED, "strict", n_boot=0)
    partial = entity_metrics(GOLD, PRED, "partial", n_boot=0)
    assert strict.per_entity["PER"].recall.value == pytest.approx(0.5)
    assert partial.per_entity["PER"].recall.value == pytest.approx(1.0)  # "B-PER O" overlaps "B-PER I-PER"
    assert strict.per_entity["LOC"].recall.value == pytest.approx(0.5)  # "I-LOC I-LOC" is ill-formed in strict IOB2
    assert partial.per_entity["LOC"].recall.value == pytest.approx(1.0)
    assert partial.per_entity["LOC"].precision.value == pytest.approx(2 / 3)


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    a = entity_metrics(GOLD, PRED, "strict", n_boot=100, seed=3)
    b = entity_metrics(GOLD, PRED, "strict", n_boot=100, seed=3)
    recall = a.per_entity["PER"].recall
    assert recall.ci_low < recall.value < recall.ci_high
    assert a == b


def test_undefined_scores_carry_a_note():
    metrics = entity_metrics([["B-PER", "O"]], [["O", "O"]], "strict", n_boot=10)
    assert metrics.per_entity["PER"].precision.value is None and "no predictions" in metrics.per_entity["PER"].precision.note
    assert metrics.per_entity["PER"].recall.value == 0.0
