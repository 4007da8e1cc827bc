"""Counterfactual name swaps that change spans: the signature of predicted entities around a name, and a model whose
other entities depend on the name's group is caught (and gated by span_flip_rate)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audit.cli import main
from audit.probes.entity_parity import NameSwaps, entity_signature, span_flip_section
from audit.probes.entity_parity._swaps import Family
from audit.record.store import RunStore
from tests import ner_data
from tests.ner_data import CITY_NAMES, FEMALE, MALE, name_dependent_docs


def test_signature_compares_entities_outside_in_original_positions_and_inside_relative_to_the_name():
    # "Call Anna Maria in Paris today": name = words 1-2, Paris = word 4
    original = entity_signature(["O", "B-PER", "I-PER", "O", "B-LOC", "O"], 1, 3)
    assert original == (frozenset({(4, 5, "LOC")}), (("PER", "at", "at"),))
    # a one-word name: Paris moves one word left, the same entity in original positions
    assert entity_signature(["O", "B-PER", "O", "B-LOC", "O"], 1, 2, shift=-1) == original
    # the name's span now swallows "in": its end is after the name
    assert entity_signature(["O", "B-PER", "I-PER", "O", "B-LOC", "O"], 1, 2, shift=-1)[1] == (("PER", "at", "after"),)
    # the name read as an organisation, and Paris lost
    assert entity_signature(["O", "B-ORG", "O", "O", "O"], 1, 2, shift=-1) == (frozenset(), (("ORG", "at", "at"),))
    # a new entity before the name
    assert entity_signature(["B-ORG", "B-PER", "O", "B-LOC", "O"], 1, 2, shift=-1)[0] == {(0, 1, "ORG"), (4, 5, "LOC")}


def _swaps(tags: list[list[str]], windows: list[tuple[int, int]], keys: list[tuple[int, str, str]],
           truncated: list[bool] | None = None) -> NameSwaps:
    n_docs = len({k[0] for k in keys})
    weights = np.random.default_rng(0).multinomial(n_docs, np.full(n_docs, 1 / n_docs), size=50)
    return NameSwaps(entity="PER", n_docs=n_docs, families=[Family("names_gender", "t", {"male": ("A",), "female": ("B",)})],
                     names_per_group=1, keys=keys, windows=windows, tags=tags,
                     truncated=truncated or [False] * len(keys), weights=weights)


def test_flip_rates_per_group_count_outside_and_inside_changes_and_leave_out_truncated_swaps():
    keys, tags, windows, cut = [], [], [], []
    for doc in range(4):
        keys += [(doc, "", ""), (doc, "names_gender", "male"), (doc, "names_gender", "female")]
        tags += [["B-PER", "O", "B-LOC"], ["B-PER", "O", "B-LOC"],
                 ["B-PER", "O", "O"] if doc < 2 else ["O", "O", "B-LOC"]]  # female: LOC lost (0, 1), name lost (2, 3)
        windows += [(0, 1)] * 3
        cut += [False, False, doc == 3]
    section = span_flip_section(_swaps(tags, windows, keys, cut), n_boot=50, level=0.95, seed=1)
    [family] = section.families
    male, female = family.groups
    assert section.truncated_swaps == 1 and (male.swaps, female.swaps) == (4, 3)
    assert male.flip_rate.value == 0 and female.flip_rate.value == 1 and female.docs_flipped == 3
    assert female.outside_rate.value == 2 / 3 and female.inside_rate.value == 1 / 3
    assert family.highest_group == "female" and family.flip_gap.value == 1
    assert family.highest_flip_rate == female.flip_rate


def test_audit_reports_span_flips_for_names_that_change_other_entities_and_the_gate_warns(tmp_path: Path, capsys):
    run, common = ner_data.train_token_run(tmp_path, name_dependent_docs(), attribution={"enabled": False})
    assert main(["--quiet", "audit", *common, "--run", run]) == 0
    record = RunStore(tmp_path / "runs").load(run)
    [family] = record.span_flips.families
    rates = {g.group: g for g in family.groups}
    assert rates["male"].flip_rate.value < 0.2 and rates["female"].flip_rate.value > 0.8
    assert rates["female"].outside_rate.value > 0.5  # the city is lost too, not only the name
    assert family.highest_group == "female" and family.flip_gap.ci_low > 0.5
    assert record.span_flips.n_docs == record.entity_parity.n_docs and record.span_flips.truncated_swaps == 0
    assert not any(name in record.span_flips.model_dump_json() for name in MALE + FEMALE + CITY_NAMES)  # no text
    capsys.readouterr()
    assert main(["--json", "gate", run, "--policy", "ner", "--runs-root", str(tmp_path / "runs")]) == 1
    checks = {c["id"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    flip = checks["span_flip_rate:names_gender"]
    assert flip["status"] == "warn" and flip["subject"] == "names_gender=female" and flip["measured"] > 0.8
