"""scrub.detector: a govaudit token-classification run's model as a Presidio recognizer inside the scrubber.

A tiny BERT token classifier is trained in the test (seconds) on synthetic PER/LOC sentences (tests/ner_data.py,
no real PII); patterns mode without the shipped recognizers, so every PERSON/LOCATION found comes from the detector.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from audit.cli import main
from audit.core.config import DetectorConfig, ScrubConfig
from audit.core.errors import BadInputError
from audit.record.store import RunStore
from finetune.scrub import Scrubber, scrub_texts
from tests import ner_data, tiny_models

TEXTS = ["my name is Omar and i live in Lima .", "Yuki moved to Oslo last year", "the lender never answered"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished token-classification run (govaudit train) on PER/LOC template sentences."""
    tmp = tmp_path_factory.mktemp("detector")
    ner_data.write_jsonl(tmp / "data.jsonl", ner_data.make_docs(120))
    base = tiny_models.make_tiny_token_model(tmp / "base", ner_data.vocab_texts())
    config = {"name": "ner", "task": "token_classification",
              "data": {"train": {"path": "data.jsonl"}, "text_columns": ["text"], "label_column": "spans",
                       "id_column": "id"},
              "model": {"base": str(base), "max_length": 32}, "split": {"validation_size": 0.15, "test_size": 0.25},
              "train": {"epochs": 8, "batch_size": 8, "learning_rate": 5e-3, "early_stopping_patience": 0,
                        "class_weights": False},
              "ner": {"n_boot": 0}, "runs": {"root": "runs"}}
    (tmp / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["--quiet", "train", "--config", str(tmp / "govaudit.yaml"), "--allow-unscrubbed", "--reason",
                 "synthetic names, no real PII"]) == 0
    [run] = [p for p in (tmp / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run


def _config(run: Path, **detector) -> ScrubConfig:
    return ScrubConfig(mode="patterns", builtin_recognizers=False, n_process=1,
                       detector=DetectorConfig(run=run, **detector))


def test_detector_finds_the_trained_entities_as_presidio_types(run_dir):
    with Scrubber(ScrubConfig(mode="patterns", builtin_recognizers=False, n_process=1)) as plain:
        assert plain.spans(TEXTS) == [[], [], []]  # nothing without the detector
    with Scrubber(_config(run_dir)) as scrubber:
        found = [[(kind, text[a:b]) for kind, a, b in spans] for text, spans in zip(TEXTS, scrubber.spans(TEXTS))]
        assert "govaudit_token_classifier" in scrubber.spec.custom_recognizers
        assert "PERSON" in scrubber.spec.entities and "PERSON" not in scrubber.spec.not_covered
    assert ("PERSON", "Omar") in found[0] and ("LOCATION", "Lima") in found[0]
    assert ("PERSON", "Yuki") in found[1] and ("LOCATION", "Oslo") in found[1]
    assert found[2] == []


def test_detector_entities_filter_min_score_and_bad_input(run_dir):
    with Scrubber(_config(run_dir, entities=["PERSON"])) as scrubber:
        assert {kind for spans in scrubber.spans(TEXTS) for kind, _, _ in spans} == {"PERSON"}
    with Scrubber(_config(run_dir, min_score=1.0)) as strict:
        assert strict.spans(TEXTS[:1]) == [[]]  # no span has every word at probability 1
    with pytest.raises(BadInputError, match="not among the model's types"):
        Scrubber(_config(run_dir, entities=["IBAN_CODE"]))
    with pytest.raises(BadInputError, match="no model/"):
        Scrubber(_config(run_dir.parent))
    with pytest.raises(ValueError, match="exactly one"):
        DetectorConfig(run=run_dir, model_dir=run_dir / "model")


def test_detector_runs_through_the_scrub_stage_counts_and_residual_check(run_dir, tmp_path, capsys):
    texts, counts = scrub_texts(TEXTS, _config(run_dir))
    assert texts[0] == "my name is <PERSON> and i live in <LOCATION> ."
    assert counts == {"LOCATION": 2, "PERSON": 2}
    frame = pd.DataFrame({"cid": ["a", "b", "c"], "narrative": TEXTS, "label": ["x", "y", "x"]})
    frame.to_csv(tmp_path / "train.csv", index=False)
    config = {"version": 1, "name": "scrub-detector",
              "data": {"train": {"path": "train.csv"}, "text_columns": ["narrative"], "label_column": "label",
                       "id_column": "cid"},
              "scrub": {"mode": "patterns", "builtin_recognizers": False, "detector": {"run": str(run_dir), "entities": ["PERSON", "LOCATION"]}},
              "runs": {"root": "runs"}}
    (tmp_path / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["--json", "scrub", "--config", str(tmp_path / "govaudit.yaml")]) == 0
    record = RunStore(tmp_path / "runs").load(json.loads(capsys.readouterr().out)["run_id"])
    scrub = record.scrub
    assert scrub.counts == {"narrative": {"LOCATION": 2, "PERSON": 2}}
    assert scrub.residual.passed and scrub.residual.rows_scanned == 2
    assert "govaudit_token_classifier" in scrub.custom_recognizers
    [weights] = (run_dir / "model").glob("*.safetensors")  # which model scrubbed is recorded by its hash
    assert scrub.engine["detector_model_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert scrub.engine["detector_min_score"] == "0.5"
    out = pd.read_parquet(RunStore(tmp_path / "runs").artifact(record.run_id, "scrubbed/train.parquet"))
    assert not any(name in text for name in ("Omar", "Lima", "Yuki", "Oslo") for text in out["narrative"])
