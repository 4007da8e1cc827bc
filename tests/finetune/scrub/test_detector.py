"""scrub.detector: a govaudit token-classification run's model as a Presidio recognizer inside the scrubber.

A tiny BERT token classifier is trained in the test (seconds) on synthetic PER/LOC sentences (tests/ner_data.py,
no real PII); patterns mode without the shipped recognizers, so every PERSON/LOCATION found comes from the detector.
"""
from __future__ import annotations

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
from tests import ner_data

TEXTS = ["my name is Omar and i live in Lima .", "Yuki moved to Oslo last year", "the lender never answered"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished token-classification run (govaudit train) on PER/LOC template sentences."""
    tmp = tmp_path_factory.mktemp("detector")
    run, _ = ner_data.train_token_run(tmp, ner_data.make_docs(120), epochs=8, vocab=ner_data.vocab_texts(),
                                      ner={"n_boot": 0})
    return tmp / "runs" / run


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
    out = pd.read_parquet(RunStore(tmp_path / "runs").artifact(record.run_id, "scrubbed/train.parquet"))
    assert not any(name in text for name in ("Omar", "Lima", "Yuki", "Oslo") for text in out["narrative"])


def test_the_scrub_record_holds_the_detector_model_hash_and_the_report_and_dashboard_show_it(run_dir, tmp_path, capsys,
                                                                                           monkeypatch):
    import shutil

    from audit.core.io import model_sha256, sha256_file
    from reports import render_html

    copy = tmp_path / "model"
    shutil.copytree(run_dir / "model", copy)
    frame = pd.DataFrame({"cid": ["a", "b"], "narrative": TEXTS[:2], "label": ["x", "y"]})
    frame.to_csv(tmp_path / "train.csv", index=False)
    hashes = []
    for change in (False, True):
        if change:  # one byte of the tokenizer config changes the model's hash
            (copy / "tokenizer_config.json").write_text((copy / "tokenizer_config.json").read_text() + " ")
        config = {"version": 1, "name": "scrub-detector",
                  "data": {"train": {"path": "train.csv"}, "text_columns": ["narrative"], "label_column": "label",
                           "id_column": "cid"},
                  "scrub": {"mode": "patterns", "builtin_recognizers": False, "detector": {"model_dir": str(copy)}},
                  "runs": {"root": "runs"}}
        (tmp_path / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        assert main(["--json", "scrub", "--config", str(tmp_path / "govaudit.yaml")]) == 0
        record = RunStore(tmp_path / "runs").load(json.loads(capsys.readouterr().out)["run_id"])
        detector = record.scrub.detector
        assert detector.files["model.safetensors"] == sha256_file(copy / "model.safetensors")
        assert detector.model_sha256 == model_sha256(detector.files) and detector.model_dir == str(copy)
        assert set(detector.entities) == {"PERSON", "LOCATION"} and detector.min_score == 0.5
        hashes.append(detector.model_sha256)
    assert hashes[0] != hashes[1]
    html = render_html(record)
    assert f"SHA-256 <code>{hashes[1]}</code>" in html
    plain = record.model_copy(deep=True)
    plain.scrub.detector = None
    assert 'id="detector-sha256"' not in render_html(plain)
    from apptest_tabs import open_tab
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.test_pages import APP

    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("views/run.py")
    at.query_params.update(run=record.run_id)
    at.run()
    open_tab(at, "Scrubbing")
    assert any(hashes[1] in c.value and "detector model" in c.value for c in at.caption)


def test_a_record_without_a_detector_keeps_its_signoff_hash():
    from audit.core.io import sha256_bytes
    from audit.record.signoff import _OPTIONAL_SECTIONS, signoff_subject_sha256
    from record_factory import make_record

    record = make_record("r")
    data = json.loads(record.to_json())
    assert record.scrub is not None and data["scrub"].pop("detector") is None
    for key in ("policy", "updated_at"):
        data.pop(key, None)
    for key in [k for k in data if (k in _OPTIONAL_SECTIONS and data[k] is None) or (k == "artifacts" and not data[k])]:
        data.pop(key)
    assert signoff_subject_sha256(record) == sha256_bytes(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
