"""`govaudit audit --predictions FILE`: a predictions table alone goes through fairness, gate and report."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from audit.cli import main
from audit.core.config import FairnessConfig
from audit.fairness import group_audit
from audit.record.store import RunStore


def _predictions(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dialect = rng.choice(["aae", "sae"], n).astype(object)
    dialect[:9] = None
    truth = rng.choice(["neither", "abusive"], n, p=[0.7, 0.3])
    p_abusive = np.clip(np.where(truth == "abusive", 0.8, 0.2) + rng.normal(0, 0.2, n), 0.01, 0.99)
    return pd.DataFrame({"id": [f"p{i}" for i in range(n)], "gold": truth,
                         "pred": np.where(p_abusive > 0.5, "abusive", "neither"),
                         "proba_neither": 1 - p_abusive, "proba_abusive": p_abusive, "dialect": dialect})


@pytest.fixture()
def project(tmp_path) -> Path:
    _predictions().to_csv(tmp_path / "preds.csv", index=False)
    config = {"data": {"text_columns": ["text"], "label_column": "gold", "sensitive_features": ["dialect"]},
              "predictions": {"label_column": "gold", "prediction_column": "pred", "id_column": "id"},
              "fairness": {"adverse_label": "abusive", "use_case": "moderation", "n_boot": 100, "n_perm": 200},
              "counterfactual": {"enabled": False}, "attribution": {"enabled": False}}
    (tmp_path / "govaudit.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def _cli(project: Path, *args: str) -> int:
    return main(["--quiet", *args, "--runs-root", str(project / "runs")])


def test_predictions_are_audited_gated_and_reported_without_a_model(project, capsys):
    assert _cli(project, "audit", "--config", str(project / "govaudit.yaml"), "--predictions",
                str(project / "preds.csv")) == 0
    store = RunStore(project / "runs")
    (run_id,) = [p.parent.name for p in (project / "runs").glob("*/record.json")]
    record = store.load(run_id)
    section = record.fairness
    assert section.use_case == "moderation" and section.overall.n == 600 and section.overall.ece is not None
    assert section.unknown_counts == {"dialect": 9}
    frame = _predictions()
    labels = ["neither", "abusive"]
    index = {label: i for i, label in enumerate(labels)}
    expected = group_audit(frame["gold"].map(index).to_numpy(), frame["pred"].map(index).to_numpy(), labels,
                           frame[["dialect"]].fillna("unknown"),
                           FairnessConfig(adverse_label="abusive", n_boot=100, n_perm=200))
    assert [g.model_dump() for g in section.groupings] == [g.model_dump() for g in expected.groupings]
    saved = pd.read_parquet(store.artifact(run_id, "predictions.parquet"))
    assert list(saved.columns) == ["row_id", "label", "prediction", "proba_neither", "proba_abusive", "sf_dialect"]
    capsys.readouterr()
    # No --policy: the gate applies the preset the config's use case names.
    code = main(["--json", "gate", run_id, "--runs-root", str(project / "runs")])
    assert code in (0, 1)
    assert store.load(run_id).policy.policy_name == "moderation"
    capsys.readouterr()
    assert _cli(project, "report", run_id, "--format", "json", "--out", str(project / "r.json")) == 0
    report = json.loads((project / "r.json").read_text())
    assert report["verdict"]["use_case"] == "moderation" and report["verdict"]["rationale"]


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns=["pred"]), "prediction column 'pred'"),
    (lambda f: f.assign(proba_abusive=1.5), "outside [0, 1]"),
    (lambda f: f.assign(pred="spam"), "not among the labels"),
    (lambda f: f.drop(columns=["dialect"]), "sensitive feature 'dialect'"),
])
def test_bad_predictions_exit_2_and_create_no_run(project, capsys, change, message):
    change(_predictions()).to_csv(project / "preds.csv", index=False)
    capsys.readouterr()
    assert _cli(project, "audit", "--config", str(project / "govaudit.yaml"), "--predictions",
                str(project / "preds.csv")) == 2
    assert message in capsys.readouterr().err
    assert not list((project / "runs").glob("*/record.json"))


def test_predictions_without_probabilities(project):
    _predictions().drop(columns=["proba_neither", "proba_abusive"]).to_csv(project / "preds.csv", index=False)
    assert _cli(project, "audit", "--config", str(project / "govaudit.yaml"), "--predictions",
                str(project / "preds.csv")) == 0
    (record_path,) = (project / "runs").glob("*/record.json")
    record = RunStore(project / "runs").load(record_path.parent.name)
    assert record.fairness.overall.ece is None and record.fairness.overall.accuracy > 0.5
