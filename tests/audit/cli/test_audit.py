"""`govaudit audit` end to end with a tiny real BERT model: explicit inputs, a trained run, bad input, overlap."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from tiny_models import make_tiny_model

from audit.cli import main
from audit.record import RunRecord, TrainSection
from audit.record.store import RunStore

LABELS = ["deny", "approve"]
WORDS = "loan fee refund late charge account bank payment interest card credit balance".split()


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, 6)) + f" case {seed}-{i}" for i in range(n)]
    sex = rng.choice(["female", "male"], n).astype(object)
    sex[:7] = None  # missing -> "unknown"
    return pd.DataFrame({"id": [f"r{seed}-{i}" for i in range(n)], "narrative": texts,
                         "outcome": rng.choice(LABELS, n), "sex": sex, "race": rng.choice(["p", "q", "r"], n)})


def _balanced_model(directory: Path, texts: list[str]) -> Path:
    """Tiny untrained model made text-sensitive (scaled word embeddings and head) with its approve bias set at the
    median margin, so about half the texts are approved: mixed decisions for the audit."""
    import torch
    from transformers import BertTokenizer

    from audit.core.model_io import load_classifier, predict_proba

    make_tiny_model(directory, LABELS, texts)
    # tiny_models' BertTokenizerFast(vocab_file=...) loads no vocab under transformers 5 (every word is [UNK]).
    BertTokenizer(vocab=str(directory / "vocab.txt"), do_lower_case=True).save_pretrained(directory)
    classifier = load_classifier(directory, "cpu")
    model = classifier.model
    with torch.no_grad():
        for module in model.bert.encoder.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.mul_(20)
        proba = predict_proba(classifier, texts)
        margin = np.log(proba[:, 1] + 1e-12) - np.log(proba[:, 0] + 1e-12)
        model.classifier.bias[1] -= float(np.median(margin))
    model.save_pretrained(directory, safe_serialization=True)
    return directory


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    train, held = _table(120, 1), _table(160, 2)
    held.loc[:4, "narrative"] = train.loc[:4, "narrative"].to_numpy()  # 5 held-out rows repeat training texts
    train.to_csv(root / "train.csv", index=False)
    held.to_csv(root / "eval.csv", index=False)
    _balanced_model(root / "model", pd.concat([train, held])["narrative"].tolist())
    config = {"data": {"train": {"path": "train.csv"}, "eval": {"path": "eval.csv"}, "text_columns": ["narrative"],
                       "label_column": "outcome", "id_column": "id", "sensitive_features": ["sex", "race"]},
              "fairness": {"favorable_label": "approve", "n_boot": 50, "min_group_size": 10},
              "counterfactual": {"enabled": False}, "attribution": {"enabled": False}}
    (root / "govaudit.yaml").write_text(yaml.safe_dump(config))
    return root


def _audit(project: Path, *args: str) -> int:
    return main(["--quiet", "audit", "--config", str(project / "govaudit.yaml"), "--runs-root", str(project / "runs"),
                 *args])


def _runs(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "runs").glob("*/record.json")) if (project / "runs").exists() else []


def test_audit_with_explicit_model_and_data(project):
    code = _audit(project, "--model", str(project / "model"), "--data", str(project / "eval.csv"),
                  "--mitigate", "threshold", "--constraint", "demographic_parity", "--mitigate-by", "sex")
    assert code == 0
    store = RunStore(project / "runs")
    record = store.load(store.list()[0]["run_id"])
    section = record.fairness
    assert record.stages == ["audit"] and section is not None and section.n_rows == 160
    assert [g.name for g in section.groupings] == ["sex", "race", "sex × race"]
    assert section.unknown_counts == {"sex": 7, "race": 0}
    assert section.overlap_with_training == 5 and any(n.code == "train_overlap" for n in record.notices)
    assert section.overall is not None and section.overall.n == 160
    selected = section.groupings[0].groups[0].metrics["selection_rate"].value
    assert 0 < selected < 1  # the balanced tiny model makes mixed decisions

    predictions = pd.read_parquet(store.artifact(record.run_id, section.predictions_artifact))
    assert "text" not in predictions.columns and "narrative" not in predictions.columns
    assert predictions["row_id"].tolist() == pd.read_csv(project / "eval.csv")["id"].tolist()
    assert np.allclose(predictions[["proba_deny", "proba_approve"]].sum(axis=1), 1.0, atol=1e-5)
    assert (predictions["sf_sex"] == "unknown").sum() == 7

    mitigation = section.mitigation
    assert mitigation is not None and mitigation.n_calibration + mitigation.n_evaluation == 160
    thresholds = json.loads(store.artifact(record.run_id, mitigation.thresholds_artifact).read_text())
    assert thresholds["constraint"] == "demographic_parity" and thresholds["groups"]


def test_audit_of_a_trained_run_uses_its_test_split(project):
    store = RunStore(project / "runs")
    record = RunRecord(run_id="trained-run", name="t")
    store.create(record)
    shutil.copytree(project / "model", store.artifact("trained-run", "model"))
    train = pd.read_csv(project / "train.csv")
    split = ["test" if i % 4 == 0 else "train" for i in range(len(train))]
    pd.DataFrame({"row_id": train["id"], "split": split, "source": "train"}).to_parquet(
        store.artifact("trained-run", "splits.parquet"))
    record.train = TrainSection(base_model="tiny", model_artifact="model", task="binary", labels=LABELS, seed=1)
    store.save(record)
    config = yaml.safe_load((project / "govaudit.yaml").read_text())
    del config["data"]["eval"]
    (project / "run.yaml").write_text(yaml.safe_dump(config))

    code = main(["--quiet", "audit", "--config", str(project / "run.yaml"), "--runs-root", str(project / "runs"),
                 "--run", "trained-run"])
    assert code == 0
    audited = store.load("trained-run")
    assert audited.fairness.n_rows == split.count("test") and audited.stages == ["audit"]
    assert audited.fairness.overlap_with_training == 0
    ids = pd.read_parquet(store.artifact("trained-run", "predictions.parquet"))["row_id"]
    assert set(ids) == set(train["id"][[s == "test" for s in split]])


@pytest.mark.parametrize("change, args", [
    ({"data": {"sensitive_features": ["sex", "ethnicity"]}}, ()),           # sensitive column missing
    ({"fairness": {"favorable_label": "granted"}}, ()),                     # not a label of the model
    ({}, ("--constraint", "parity")),                                       # unknown constraint
    ({}, ("--run", "no-such-run")),                                         # unknown run
])
def test_bad_input_exits_2_and_writes_nothing(project, change, args):
    config = yaml.safe_load((project / "govaudit.yaml").read_text())
    for section, values in change.items():
        config[section].update(values)
    (project / "bad.yaml").write_text(yaml.safe_dump(config))
    before = _runs(project)
    code = main(["--quiet", "audit", "--config", str(project / "bad.yaml"), "--runs-root", str(project / "runs"),
                 "--model", str(project / "model"), *args])
    assert code == 2 and _runs(project) == before


def test_labels_unseen_by_the_model_exit_2(project):
    held = pd.read_csv(project / "eval.csv")
    held.loc[3, "outcome"] = "escalate"
    held.to_csv(project / "unseen.csv", index=False)
    before = _runs(project)
    assert _audit(project, "--model", str(project / "model"), "--data", str(project / "unseen.csv")) == 2
    assert _runs(project) == before


def test_audit_on_ray_gives_the_local_predictions_and_numbers(project, local_ray):
    args = ("--model", str(project / "model"), "--data", str(project / "eval.csv"))
    store = RunStore(project / "runs")

    def audited(*extra: str):
        before = {r["run_id"] for r in store.list()}
        assert _audit(project, *args, *extra) == 0
        (run_id,) = {r["run_id"] for r in store.list()} - before
        record = store.load(run_id)
        return record, pd.read_parquet(store.artifact(run_id, record.fairness.predictions_artifact))

    local, local_pred = audited()
    on_ray, ray_pred = audited("--engine", "ray", "--set", "engine.shard_rows=50", "--set", "engine.workers=2")
    columns = ["proba_deny", "proba_approve"]
    assert np.abs(local_pred[columns].to_numpy() - ray_pred[columns].to_numpy()).max() <= 1e-5
    assert (local_pred["prediction"] == ray_pred["prediction"]).all()
    assert ray_pred["row_id"].tolist() == local_pred["row_id"].tolist()
    assert on_ray.fairness.model_dump(include={"groupings", "overall"}) == local.fairness.model_dump(
        include={"groupings", "overall"})
    execution = on_ray.fairness.execution
    assert execution.model_dump(exclude={"shard_sha256"}) == {"engine": "ray", "workers": 2, "shards": 4,
                                                              "shards_reused": 0}
    assert len(execution.shard_sha256) == 4 and len(set(execution.shard_sha256)) == 4
    assert local.fairness.execution is None
    assert not list((project / "runs").glob(".shards-*"))  # the finished audit leaves no cached shards


def test_killed_ray_audit_resumes_from_its_finished_shards(project, local_ray, monkeypatch):
    from audit.core.engine import FAULT_ENV

    args = ("--model", str(project / "model"), "--data", str(project / "eval.csv"), "--engine", "ray",
            "--set", "engine.shard_rows=50", "--set", "engine.workers=2")
    store = RunStore(project / "runs")

    def new_run() -> str:
        before = {r["run_id"] for r in store.list()}
        assert _audit(project, *args) == 0
        (run_id,) = {r["run_id"] for r in store.list()} - before
        return run_id

    whole = store.load(new_run())
    monkeypatch.setenv(FAULT_ENV, "2")
    assert _audit(project, *args) == 130
    assert len(list(next((project / "runs").glob(".shards-*")).glob("*.json"))) == 2
    monkeypatch.delenv(FAULT_ENV)
    resumed = store.load(new_run())
    assert resumed.fairness.execution.shards_reused == 2
    assert resumed.fairness.execution.shard_sha256 == whole.fairness.execution.shard_sha256
    assert resumed.fairness.model_dump(include={"groupings", "overall"}) == whole.fairness.model_dump(
        include={"groupings", "overall"})
    assert not list((project / "runs").glob(".shards-*"))
