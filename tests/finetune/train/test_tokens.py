"""task: token_classification: span data -> token classifier with lineage, resume, entity metrics (tiny BERT)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from audit.cli import main
from audit.core.spans import read_span_docs
from audit.record.store import RunStore
from tests import ner_data, tiny_models

WAIVER = ["--allow-unscrubbed", "--reason", "synthetic names, no real PII"]


def _project(tmp: Path, n: int = 120, *, train: dict | None = None, conll: bool = False) -> Path:
    docs = ner_data.make_docs(n)
    if conll:
        from audit.core.config import DataConfig
        from audit.core.spans import word_tags

        ner_data.write_jsonl(tmp / "tmp.jsonl", docs)
        parsed = read_span_docs(tmp / "tmp.jsonl", DataConfig(text_columns=["text"], label_column="spans"))
        lines = ["\n".join(f"{w} {t}" for w, t in zip(d.word_texts(), word_tags(d))) for d in parsed]
        (tmp / "data.conll").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        source = {"path": "data.conll"}
    else:
        ner_data.write_jsonl(tmp / "data.jsonl", docs)
        source = {"path": "data.jsonl"}
    model = tiny_models.make_tiny_token_model(tmp / "base", ner_data.vocab_texts())
    config = {"name": "ner", "task": "token_classification",
              "data": {"train": source, "text_columns": ["text"], "label_column": "spans", "id_column": "id"},
              "model": {"base": str(model), "max_length": 32}, "split": {"validation_size": 0.15, "test_size": 0.25},
              "train": {"epochs": 8, "batch_size": 8, "learning_rate": 5e-3, "checkpoint_every_steps": 5,
                        "early_stopping_patience": 0, "class_weights": False, **(train or {})},
              "ner": {"n_boot": 50}, "runs": {"root": "runs"}}
    (tmp / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return tmp / "govaudit.yaml"


def _cli(config: Path, *args: str) -> int:
    return main(["--quiet", "train", "--config", str(config), "--runs-root", str(config.parent / "runs"), *args])


def _run_id(config: Path) -> str:
    [run] = [p.name for p in (config.parent / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run


def test_token_classifier_trains_and_records_entity_metrics(tmp_path):
    config = _project(tmp_path)
    assert _cli(config, *WAIVER) == 0
    store = RunStore(tmp_path / "runs")
    record = store.load(_run_id(config))
    section, entities = record.train, record.entities
    assert section.task == "token_classification" and section.waiver is not None
    assert section.labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert section.split_sizes == {"train": 72, "validation": 18, "test": 30}
    assert entities.n_docs == 30 and set(entities.strict.per_entity) == {"LOC", "PER"}
    assert entities.strict.micro.f1.value > 0.8  # the templates are easy: an untrained head scores ~0
    assert entities.partial.micro.recall.value >= entities.strict.micro.recall.value
    low, high = entities.strict.micro.f1.ci_low, entities.strict.micro.f1.ci_high
    assert low <= entities.strict.micro.f1.value <= high
    run_dir = store.run_dir(record.run_id)
    rows = [json.loads(line) for line in (run_dir / "entity_predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 30 and set(rows[0]) == {"row_id", "gold", "predicted"}
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(run_dir / "model", use_safetensors=True)
    assert model.config.id2label[3] == "B-PER" and not (run_dir / "model" / "pytorch_model.bin").exists()


def test_conll_input_trains_too(tmp_path):
    config = _project(tmp_path, n=60, conll=True, train={"epochs": 1})
    assert _cli(config, *WAIVER) == 0
    record = RunStore(tmp_path / "runs").load(_run_id(config))
    assert record.train.data[0].format == "conll" and record.entities.n_docs == 15


def test_refuses_without_waiver_and_bad_spans_exit_2(tmp_path):
    config = _project(tmp_path, n=30)
    assert _cli(config) == 2
    (tmp_path / "data.jsonl").write_text(json.dumps({"id": "x", "text": "hi", "spans": [{"start": 0, "end": 9,
                                                                                           "label": "PER"}]}) + "\n")
    assert _cli(config, *WAIVER) == 2
    assert not any((tmp_path / "runs").glob("*/model"))


def test_resume_after_kill_matches_uninterrupted_run(tmp_path, monkeypatch):
    from safetensors.numpy import load_file

    (tmp_path / "a").mkdir()
    straight = _project(tmp_path / "a", train={"epochs": 2})
    assert _cli(straight, *WAIVER) == 0
    a = load_file(str(tmp_path / "a" / "runs" / _run_id(straight) / "model" / "model.safetensors"))

    (tmp_path / "b").mkdir()
    killed = _project(tmp_path / "b", train={"epochs": 2})
    monkeypatch.setenv("GOVAUDIT_TRAIN_FAULT", "kill@10")
    with pytest.raises(BaseException):
        _cli(killed, *WAIVER)
    monkeypatch.delenv("GOVAUDIT_TRAIN_FAULT")
    run = _run_id(killed)
    assert _cli(killed, "--run", run, "--resume", *WAIVER) == 0
    record = RunStore(tmp_path / "b" / "runs").load(run)
    assert record.train.resumed_from_step == 10
    b = load_file(str(tmp_path / "b" / "runs" / run / "model" / "model.safetensors"))
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-5)
