"""`govaudit monitor` end to end: an audited run (tiny real BERT), production logs replayed, exit codes 0 / 1 / 2."""
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
from audit.record.status import monitoring_status
from audit.record.store import RunStore

LABELS = ["deny", "approve"]
WORDS = "loan fee refund late charge account bank payment interest card credit balance".split()
POLICY = {"name": "test-monitoring", "min_window_rows": 40, "min_group_size": 10}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from transformers import BertTokenizer

    root = tmp_path_factory.mktemp("monitor")
    rng = np.random.default_rng(0)
    n = 400
    train = pd.DataFrame({"id": [f"r{i}" for i in range(n)],
                          "narrative": [" ".join(rng.choice(WORDS, 6)) for _ in range(n)],
                          "outcome": rng.choice(LABELS, n), "sex": rng.choice(["female", "male"], n)})
    train.to_csv(root / "train.csv", index=False)
    make_tiny_model(root / "model", LABELS, train["narrative"].tolist())
    BertTokenizer(vocab=str(root / "model" / "vocab.txt"), do_lower_case=True).save_pretrained(root / "model")
    store = RunStore(root / "runs")
    record = RunRecord(run_id="prod-run", name="p")
    store.create(record)
    shutil.copytree(root / "model", store.artifact("prod-run", "model"))
    split = ["test" if i % 2 == 0 else "train" for i in range(n)]
    pd.DataFrame({"row_id": train["id"], "split": split, "source": "train"}).to_parquet(
        store.artifact("prod-run", "splits.parquet"))
    record.train = TrainSection(base_model="tiny", model_artifact="model", task="binary", labels=LABELS, seed=1)
    store.save(record)
    config = {"data": {"train": {"path": "train.csv"}, "text_columns": ["narrative"], "label_column": "outcome",
                       "id_column": "id", "sensitive_features": ["sex"]},
              "fairness": {"favorable_label": "approve", "n_boot": 0, "min_group_size": 10},
              "counterfactual": {"enabled": False}, "attribution": {"enabled": False},
              "monitor": {"timestamp_column": "ts", "text_column": "narrative", "label_column": "outcome",
                          "window": "1d", "policy": "monitor.yaml"}}
    (root / "govaudit.yaml").write_text(yaml.safe_dump(config))
    (root / "monitor.yaml").write_text(yaml.safe_dump(POLICY))
    assert main(["--quiet", "audit", "--config", str(root / "govaudit.yaml"), "--runs-root", str(root / "runs"),
                 "--run", "prod-run"]) == 0
    return root


def _log(project: Path, name: str, *, days: int = 3, drift: bool = False, first_day: int = 1) -> Path:
    """The run's held-out predictions replayed as `days` days of production traffic (drift: every decision flipped,
    confident)."""
    store = RunStore(project / "runs")
    pred = pd.read_parquet(store.artifact("prod-run", "predictions.parquet"))
    train = pd.read_csv(project / "train.csv").set_index("id")
    log = pd.concat([pred] * days, ignore_index=True)
    log["ts"] = [f"2023-06-{first_day + i // len(pred):02d}T12:00:00Z" for i in range(len(log))]
    log["narrative"] = train.loc[log["row_id"], "narrative"].to_numpy()
    log["sex"] = log.pop("sf_sex")
    log["outcome"] = log.pop("label")
    if drift:
        flipped = log["prediction"] == "deny"
        log["prediction"] = np.where(flipped, "approve", "deny")
        log["proba_approve"] = np.where(flipped, 0.95, 0.05)
        log["proba_deny"] = 1 - log["proba_approve"]
    path = project / name
    log.to_csv(path, index=False)
    return path


def _monitor(project: Path, *args: str) -> int:
    return main(["--quiet", "monitor", "--run", "prod-run", "--config", str(project / "govaudit.yaml"),
                 "--runs-root", str(project / "runs"), *args])


def test_replay_of_held_out_traffic_is_quiet_and_idempotent(project, capsys):
    log = _log(project, "quiet.csv")
    store = RunStore(project / "runs")
    parent_before = store.record_sha256("prod-run")
    assert _monitor(project, "--log", str(log), "--junit", str(project / "m.xml"), "--markdown",
                    str(project / "m.md")) == 0
    child = store.load("prod-run.monitor")
    section = child.monitoring
    assert child.parent_run_id == "prod-run" and child.stages == ["monitor"]
    assert section.status == "ok" and len(section.windows) == 3 and section.reference_rows == 200
    assert section.windows[0].metrics["prediction_drift_psi"] == pytest.approx(0, abs=1e-9)
    assert section.windows[0].metrics["oov_rate"] == pytest.approx(section.windows[0].metrics["oov_rate_reference"])
    assert store.record_sha256("prod-run") == parent_before  # the audited (signed-off) run is untouched
    stats = (store.run_dir("prod-run.monitor") / section.stats_artifact).read_bytes()
    assert _monitor(project, "--log", str(log)) == 0
    assert (store.run_dir("prod-run.monitor") / section.stats_artifact).read_bytes() == stats
    assert "<testsuites" in (project / "m.xml").read_text() and "monitor: ok" in (project / "m.md").read_text()
    assert b"loan" not in stats and b"refund" not in stats  # no text in the store


def test_drifted_traffic_alerts_with_exit_1(project, capsys):
    code = _monitor(project, "--log", str(_log(project, "drift.csv", drift=True, first_day=10)), "--json-out",
                    str(project / "m.json"))
    assert code == 1
    payload = json.loads((project / "m.json").read_text())
    checks = {a["check"] for a in payload["alerts"] if a["active"]}
    assert {"prediction_drift", "score_drift"} <= checks and payload["status"] == "alert"
    assert "ALERT" in capsys.readouterr().out
    report = project / "monitor-report.html"
    assert main(["--quiet", "report", "prod-run.monitor", "--runs-root", str(project / "runs"), "--out",
                 str(report)]) == 0
    assert '<section id="monitoring">' in report.read_text() and "prediction_drift" in report.read_text()


@pytest.mark.parametrize("args", [("--log", "missing.csv"), ("--window", "7w"), ("--policy", "nope.yaml")])
def test_bad_input_exits_2_and_writes_nothing(project, tmp_path, args):
    runs = tmp_path / "runs"
    shutil.copytree(project / "runs", runs, ignore=shutil.ignore_patterns("prod-run.monitor"))
    extra = ("--log", str(_log(project, "ok.csv", days=1))) if args[0] != "--log" else ()
    code = main(["--quiet", "monitor", "--run", "prod-run", "--config", str(project / "govaudit.yaml"),
                 "--runs-root", str(runs), *extra, *(str(project / a) if a.endswith((".csv", ".yaml")) else a
                                                     for a in args)])
    assert code == 2 and not (runs / "prod-run.monitor").exists()


def test_embedding_drift_option_stores_embeddings_not_text(project, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(project / "runs", runs, ignore=shutil.ignore_patterns("prod-run.monitor"))
    code = main(["--quiet", "monitor", "--run", "prod-run", "--config", str(project / "govaudit.yaml"),
                 "--runs-root", str(runs), "--log", str(_log(project, "emb.csv", days=2)), "--embeddings", "40",
                 "--device", "cpu"])
    assert code == 0
    section = RunStore(runs).load("prod-run.monitor").monitoring
    assert all(0 < w.metrics["embedding_p"] <= 1 for w in section.windows)
    assert any(c.id == "embedding_drift" and c.status == "pass" for c in section.windows[0].checks)
    stored = sorted(p.name for p in (runs / "prod-run.monitor" / "monitoring" / "embeddings").iterdir())
    assert len(stored) == 3 and "reference.npy" in stored  # one sample per window (2 days) + the reference
    assert np.load(runs / "prod-run.monitor" / "monitoring" / "embeddings" / "reference.npy").shape[0] == 40


def _windows_without_times(path: Path) -> dict:
    state = json.loads(path.read_text())
    for log in state["logs"]:
        log.pop("ingested_at")
    return state


@pytest.mark.parametrize("window", ["1d", "150rows"])
def test_monitor_on_ray_gives_the_local_windows(project, tmp_path, local_ray, window):
    """Three logs ingested by Ray actors (one log each, descriptors and PII scan on the actors) give the local
    windows; windows by rows cross the files' boundaries, so each log must start at the previous log's end."""
    logs = [_log(project, f"ray-{day}.csv", days=1, first_day=day) for day in (1, 2, 3)]
    sections = {}
    for engine in ("local", "ray"):
        runs = tmp_path / engine
        shutil.copytree(project / "runs", runs, ignore=shutil.ignore_patterns("prod-run.monitor"))
        args = [a for log in logs for a in ("--log", str(log))]
        code = main(["--quiet", "monitor", "--run", "prod-run", "--config", str(project / "govaudit.yaml"),
                     "--runs-root", str(runs), "--window", window, "--engine", engine, *args])
        assert code == 0
        store = RunStore(runs)
        section = store.load("prod-run.monitor").monitoring
        sections[engine] = (section, _windows_without_times(store.run_dir("prod-run.monitor") / section.stats_artifact))
    (local, local_state), (on_ray, ray_state) = sections["local"], sections["ray"]
    assert ray_state == local_state
    assert [w.model_dump() for w in on_ray.windows] == [w.model_dump() for w in local.windows]
    assert len(local.windows) == 3 if window == "1d" else len(local.windows) == 4
    assert local.windows[0].metrics["pii_rate"] is not None


def test_monitor_on_ray_embeddings_match_local(project, tmp_path, local_ray):
    """Embeddings computed on the actors: each window's sample holds the local sample's texts (its first 250, and the
    second day's 200 rows of the first log leave room for 50 from the second log), so arrays and MMD results agree."""
    logs = [_log(project, "emb-a.csv", days=2), _log(project, "emb-b.csv", days=1, first_day=2)]
    results = {}
    for engine in ("local", "ray"):
        runs = tmp_path / engine
        shutil.copytree(project / "runs", runs, ignore=shutil.ignore_patterns("prod-run.monitor"))
        code = main(["--quiet", "monitor", "--run", "prod-run", "--config", str(project / "govaudit.yaml"),
                     "--runs-root", str(runs), "--engine", engine, "--embeddings", "250", "--device", "cpu",
                     *[a for log in logs for a in ("--log", str(log))]])
        assert code == 0
        folder = runs / "prod-run.monitor" / "monitoring" / "embeddings"
        arrays = {p.name: np.load(p).astype(np.float32) for p in sorted(folder.iterdir())}
        section = RunStore(runs).load("prod-run.monitor").monitoring
        results[engine] = arrays, [(w.metrics["embedding_p"], [(c.id, c.status) for c in w.checks])
                                   for w in section.windows]
    (local, local_windows), (on_ray, ray_windows) = results["local"], results["ray"]
    assert sorted(on_ray) == sorted(local) and len(local) == 3  # two windows + the reference
    assert [len(a) for a in local.values()] == [200, 250, 200]  # day 1, day 2 (both logs), reference (held-out)
    for name in local:
        assert on_ray[name].shape == local[name].shape
        np.testing.assert_allclose(on_ray[name], local[name], atol=2e-3)  # float16 storage
    assert ray_windows == local_windows


def test_monitor_on_ray_bad_log_exits_2_like_local(project, tmp_path, local_ray):
    bad = project / "bad.csv"
    pd.read_csv(_log(project, "good.csv", days=1)).drop(columns=["prediction"]).to_csv(bad, index=False)
    runs = tmp_path / "runs"
    shutil.copytree(project / "runs", runs, ignore=shutil.ignore_patterns("prod-run.monitor"))
    code = main(["--quiet", "monitor", "--run", "prod-run", "--config", str(project / "govaudit.yaml"),
                 "--runs-root", str(runs), "--engine", "ray", "--log", str(bad)])
    assert code == 2 and not (runs / "prod-run.monitor").exists()


def test_gate_reads_the_monitoring_child_run(project, tmp_path, capsys):
    runs = tmp_path / "runs"
    shutil.copytree(project / "runs", runs, ignore=shutil.ignore_patterns("prod-run.monitor"))
    policy = tmp_path / "deployed.yaml"
    policy.write_text("name: deployed\non_missing: fail\nchecks:\n  monitoring: {last_windows: 3}\n")
    gate = ["--quiet", "gate", "prod-run", "--policy", str(policy), "--runs-root", str(runs)]
    assert main(gate) == 1  # not monitored yet: missing evidence blocks under on_missing: fail
    assert "govaudit monitor --run prod-run" in capsys.readouterr().out
    monitor = ["--quiet", "monitor", "--run", "prod-run", "--config", str(project / "govaudit.yaml"), "--runs-root",
               str(runs)]
    assert main([*monitor, "--log", str(_log(project, "calm.csv"))]) == 0
    assert main(gate) == 0
    assert main([*monitor, "--log", str(_log(project, "flipped.csv", drift=True, first_day=20))]) == 1
    assert main(gate) == 1
    store = RunStore(runs)
    checks = {c.id: c for c in store.load("prod-run").policy.checks}
    section = store.load("prod-run.monitor").monitoring
    assert checks["monitoring:open alerts"].status == "fail"
    assert checks["monitoring:open alerts"].measured == monitoring_status(section).alerts > 0
    assert checks["monitoring:last 3 windows"].status == "fail"
    assert "FAIL" in capsys.readouterr().out
