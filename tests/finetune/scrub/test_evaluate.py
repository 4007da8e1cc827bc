"""`govaudit scrub --evaluate`: the scrubber's per-entity recall, values gone and precision on labelled documents."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from audit.cli import main
from audit.core.config import ScrubConfig
from audit.policy import LoadedPolicy, evaluate_policy, policy_from_text
from audit.record.store import RunStore
from finetune.scrub import Scrubber, evaluate_scrubber, read_labelled
from finetune.scrub._evaluate import coverage

EMAIL, CARD = "jane.roe@example.com", "4111 1111 1111 1111"


def _doc(text: str, *spans: tuple[str, str]) -> dict:
    return {"text": text, "spans": [{"start": text.index(v), "end": text.index(v) + len(v), "label": k}
                                    for k, v in spans]}


def _labelled(tmp: Path) -> Path:
    docs = [_doc(f"Write to {EMAIL} today.", ("EMAIL_ADDRESS", EMAIL)),
            _doc(f"Card {CARD} was charged.", ("CREDIT_CARD", CARD)),
            _doc("My secret word is pineapple.", ("PASSWORD", "pineapple")),  # no recognizer: a miss
            _doc("Nothing here but mail to ops@example.org.")]  # unlabelled email: a false positive
    path = tmp / "labelled.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def test_coverage_of_union_of_spans():
    assert coverage(0, 10, [(0, 3), (2, 5)]) == pytest.approx(0.5)
    assert coverage(5, 7, []) == 0.0


def test_scores_recall_values_gone_and_precision(tmp_path):
    docs, data = read_labelled(_labelled(tmp_path))
    with Scrubber(ScrubConfig(mode="patterns")) as scrubber:
        section = evaluate_scrubber(scrubber, docs, data, n_boot=50)
    email, card, password = (section.per_entity[k] for k in ("EMAIL_ADDRESS", "CREDIT_CARD", "PASSWORD"))
    assert (email.support, email.recall.value, email.values_gone.value) == (1, 1.0, 1.0)
    assert email.detected == 2 and email.precision.value == pytest.approx(0.5)  # the unlabelled address counts against
    assert card.recall.value == 1.0 and card.type_recall.value == 1.0
    assert password.recall.value == 0.0 and password.values_gone.value == 0.0
    assert password.precision.value is None and "no detections" in password.precision.note
    assert section.micro.support == 3 and section.micro.recall.value == pytest.approx(2 / 3)
    assert "pineapple" not in section.model_dump_json() and EMAIL not in section.model_dump_json()


def test_cli_records_the_certificate_and_the_policy_gates_on_it(tmp_path):
    labelled = _labelled(tmp_path)
    config = {"data": {"train": {"path": "x.csv"}, "text_columns": ["t"], "label_column": "y"},
              "scrub": {"mode": "patterns"}, "runs": {"root": "runs"}}
    (tmp_path / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    args = ["--quiet", "scrub", "--config", str(tmp_path / "govaudit.yaml"), "--runs-root", str(tmp_path / "runs")]
    assert main([*args, "--evaluate", str(labelled), "--n-boot", "20"]) == 0
    [run] = [p.name for p in (tmp_path / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]
    record = RunStore(tmp_path / "runs").load(run)
    assert record.stages == ["pii_evaluation"] and record.pii_evaluation.n_docs == 4
    assert record.scrub is None  # evaluating does not scrub the data
    policy = LoadedPolicy(policy=policy_from_text(
        "name: t\nchecks:\n  pii_recall: {min: 0.95, entities: [EMAIL_ADDRESS, PASSWORD], min_support: 1}\n",
        source="t"), sha256="0" * 64, source="t")
    status = {c.id: c.status for c in evaluate_policy(record, policy).checks}
    assert status == {"pii_recall:EMAIL_ADDRESS": "pass", "pii_recall:PASSWORD": "fail"}


@pytest.mark.parametrize("content, code", [("not json\n", 2), ('{"text": "a", "spans": []}\n', 2)])
def test_bad_labelled_file_exits_2_and_writes_no_run(tmp_path, content, code):
    (tmp_path / "l.jsonl").write_text(content, encoding="utf-8")
    config = {"data": {"text_columns": ["t"], "label_column": "y"}, "scrub": {"mode": "patterns"}}
    (tmp_path / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["--quiet", "scrub", "--config", str(tmp_path / "govaudit.yaml"), "--runs-root",
                 str(tmp_path / "runs"), "--evaluate", str(tmp_path / "l.jsonl")]) == code
    assert not any((tmp_path / "runs").glob("*/record.json"))
