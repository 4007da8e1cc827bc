"""Entity-recall parity: name swaps inside person spans, and a model biased against one group's names is caught."""
from __future__ import annotations

from pathlib import Path


from audit.cli import main
from audit.core.spans import Span, SpanDoc, words_of
from audit.probes.entity_parity import swap_name
from audit.record.store import RunStore
from tests import ner_data

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
    run, common = ner_data.train_token_run(tmp_path, docs, epochs=4)
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
