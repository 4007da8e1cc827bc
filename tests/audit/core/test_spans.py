"""Span-annotated data: JSONL / JSON / CoNLL reading, IOB2 word tags and back, clear errors without text."""
from __future__ import annotations

import json

import pytest

from audit.core.config import DataConfig
from audit.core.errors import BadInputError
from audit.core.spans import Span, read_span_docs, tag_set, tags_to_spans, word_tags

MAPPING = DataConfig(text_columns=["text"], label_column="spans", id_column="id")


def test_jsonl_spans_become_iob2_word_tags_and_back(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "Call Anna Maria at Paris.",
                                "spans": [{"start": 5, "end": 15, "label": "PER"},
                                          {"start": 19, "end": 24, "label": "LOC"}]}) + "\n", encoding="utf-8")
    [doc] = read_span_docs(path, MAPPING)
    assert doc.row_id == "a"
    assert word_tags(doc) == ["O", "B-PER", "I-PER", "O", "B-LOC", "O"]
    assert tags_to_spans(word_tags(doc), doc.words) == doc.spans
    assert tag_set([doc]) == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def test_presidio_style_json_list_is_read(tmp_path):
    path = tmp_path / "synth.json"
    path.write_text(json.dumps([{"full_text": "I am Bob", "spans": [
        {"entity_type": "PERSON", "entity_value": "Bob", "start_position": 5, "end_position": 8}]}]), encoding="utf-8")
    [doc] = read_span_docs(path, DataConfig(text_columns=["text"], label_column="spans"))
    assert doc.spans == [Span(5, 8, "PERSON")]


def test_conll_file_with_iob1_and_bioes_tags(tmp_path):
    path = tmp_path / "d.conll"
    path.write_text("-DOCSTART- -X- O\n\nJohn NNP I-PER\nSmith NNP I-PER\nflew O\nto O\nRome NNP S-LOC\n\n"
                    "Hi O\n", encoding="utf-8")
    docs = read_span_docs(path, MAPPING)
    assert [d.text for d in docs] == ["John Smith flew to Rome", "Hi"]
    assert docs[0].spans == [Span(0, 10, "PER"), Span(19, 23, "LOC")]
    assert word_tags(docs[0]) == ["B-PER", "I-PER", "O", "O", "B-LOC"]


@pytest.mark.parametrize("spans, message", [
    ([{"start": 0, "end": 99, "label": "PER"}], "outside the text"),
    ([{"start": 0, "end": 4, "label": "PER"}, {"start": 2, "end": 6, "label": "LOC"}], "overlapping"),
    ([{"start": 0, "end": 4}], "lacks start/end/label"),
    ([{"start": 0, "end": 4, "label": "B-PER"}], "entity type"),
    ("PER", "must be a list"),
])
def test_bad_spans_name_the_line_and_never_the_text(tmp_path, spans, message):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "Secret Name here", "spans": []}) + "\n"
                    + json.dumps({"id": "b", "text": "Secret Name here", "spans": spans}) + "\n", encoding="utf-8")
    with pytest.raises(BadInputError) as err:
        read_span_docs(path, MAPPING)
    assert message in err.value.message and err.value.where.endswith(":2")
    assert "Secret" not in err.value.one_line()


def test_conll_line_without_tag_is_an_error(tmp_path):
    path = tmp_path / "d.conll"
    path.write_text("John B-PER\nSmith\n", encoding="utf-8")
    with pytest.raises(BadInputError, match="token and a tag") as err:
        read_span_docs(path, MAPPING)
    assert err.value.where.endswith(":2")
