"""Entity-recall parity: name swaps inside person spans, and a model biased against one group's names is caught."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from audit.cli import main
from audit.core.spans import Span, SpanDoc, words_of
from audit.probes.entity_parity import swap_name
from audit.record.store import RunStore
from tests import tiny_models

MALE = ["John", "Paul", "Mike", "Kevin", "Steve", "Greg", "Jeff"]
FEMALE = ["Amy", "Joan", "Lisa", "Sarah", "Diana", "Kate", "Ann"]
TEMPLATES = ["please call {} today", "my name is {} and i live here", "we met {} at the station",
             "ask {} about the trip"]


def test_swap_name_keeps_the_sentence_and_shifts_later_spans():
    text = "Call Anna Maria in Paris today"
    doc = SpanDoc("a", text, [Span(5, 15, "PER"), Span(19, 24, "LOC")], words_of(text))
    swapped, (first, last) = swap_name(doc, doc.spans[0], "Bob")
    assert swapped.text == "Call Bob in Paris today"
    assert swapped.spans == [Span(5, 8, "PER"), Span(12, 17, "LOC")]
    assert swapped.word_texts()[first:last] == ["Bob"] and swapped.word_texts()[-2:] == ["Paris", "today"]


def _biased_docs() -> list[dict]:
    """Male names are persons; female names appear only as product words (tagged O): a model biased by its data."""
    docs = []
    for i in range(140):
        template = TEMPLATES[i % len(TEMPLATES)]
        name = MALE[i % len(MALE)]
        start = template.index("{}")
        docs.append({"id": f"m{i}", "text": template.format(name),
                     "spans": [{"start": start, "end": start + len(name), "label": "PER"}]})
        docs.append({"id": f"f{i}", "text": f"the {FEMALE[i % len(FEMALE)]} blender is on sale", "spans": []})
    return docs


def test_audit_of_a_token_classifier_reports_lower_recall_for_the_missed_group(tmp_path: Path):
    docs = _biased_docs()
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    base = tiny_models.make_tiny_token_model(tmp_path / "base", [d["text"] for d in docs])
    config = {"name": "ner", "task": "token_classification",
              "data": {"train": {"path": "data.jsonl"}, "text_columns": ["text"], "label_column": "spans",
                       "id_column": "id"},
              "model": {"base": str(base), "max_length": 32}, "split": {"validation_size": 0.15, "test_size": 0.25},
              "train": {"epochs": 4, "batch_size": 8, "learning_rate": 5e-3, "early_stopping_patience": 0,
                        "class_weights": False},
              "ner": {"n_boot": 50, "person_label": "PER", "name_groups": ["male", "female"]},
              "runs": {"root": "runs"}}
    (tmp_path / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    common = ["--config", str(tmp_path / "govaudit.yaml"), "--runs-root", str(tmp_path / "runs")]
    assert main(["--quiet", "train", *common, "--allow-unscrubbed", "--reason", "synthetic"]) == 0
    [run] = [p.name for p in (tmp_path / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert main(["--quiet", "audit", *common, "--run", run]) == 0
    record = RunStore(tmp_path / "runs").load(run)
    assert record.stages == ["train", "audit"] and record.entities.n_docs == 70
    [family] = record.entity_parity.families
    recall = {g.group: g.recall.value for g in family.groups}
    assert family.family == "names_gender" and family.lowest_group == "female"
    assert recall["male"] > 0.9 and recall["female"] < 0.5
    assert family.recall_ratio.value < 0.5 and family.recall_ratio.ci_high < 0.8
    assert record.entity_parity.original_recall.value > 0.9
    assert all(g.spans == record.entity_parity.n_docs * 7 for g in family.groups)
