"""examples/pii_detector/train_detector.py: the detector recipe end to end with a tiny encoder and given data.

The data generator (presidio-evaluator, a bench extra) is bypassed with --train-data / --dev-data; the recipe's
own steps run: its config, `govaudit train` under the waiver, and the run it prints works as `scrub.detector.run`.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from audit.core.config import DetectorConfig, ScrubConfig
from finetune.scrub import Scrubber
from tests import ner_data, tiny_models

RECIPE = Path(__file__).resolve().parents[3] / "examples" / "pii_detector" / "train_detector.py"


def _recipe():
    spec = importlib.util.spec_from_file_location("train_detector", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipe_trains_a_detector_the_scrubber_runs(tmp_path):
    train = ner_data.write_jsonl(tmp_path / "train.jsonl", ner_data.make_docs(150, seed=1))
    dev = ner_data.write_jsonl(tmp_path / "dev.jsonl", ner_data.make_docs(40, seed=2))
    base = tiny_models.make_tiny_token_model(tmp_path / "base", ner_data.vocab_texts())
    run = _recipe().main(["--work", str(tmp_path / "work"), "--base", str(base), "--train-data", str(train),
                          "--dev-data", str(dev), "--set", "model.max_length=32", "--set", "train.epochs=8",
                          "--set", "train.batch_size=8", "--set", "train.learning_rate=5e-3",
                          "--set", "train.early_stopping_patience=0"])
    record = json.loads((run / "record.json").read_text(encoding="utf-8"))
    assert record["train"]["task"] == "token_classification"
    assert "no real PII" in record["train"]["waiver"]["reason"]
    assert record["entities"]["n_docs"] == 40  # scored on the dev set given as data.eval
    config = ScrubConfig(mode="patterns", builtin_recognizers=False, n_process=1, detector=DetectorConfig(run=run))
    with Scrubber(config) as scrubber:
        [spans] = scrubber.spans(["please call Omar today"])
    assert [(kind, a, b) for kind, a, b in spans] == [("PERSON", 12, 16)]
