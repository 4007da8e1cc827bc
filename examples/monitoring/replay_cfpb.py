"""Replay the bundled CFPB complaints as production traffic: train on January-April 2023, log May-August.

    .venv/bin/python examples/monitoring/replay_cfpb.py [--skip-train RUN] [--set KEY=VALUE ...]

1. Writes work/train_months.csv (complaints received Jan-Apr) and trains + audits a run on it (`govaudit scrub`,
   `train`, `audit` with examples/monitoring/govaudit.yaml: patterns-mode scrub, no probes).
2. Predicts May-August with the run's model and writes one production log per month, work/logs/2023-MM.csv:
   date_received, prediction, proba_<label>, narrative, relief (the delayed label), age_group, military_status.
3. Calls `govaudit monitor` once per month, as a monthly scheduled job would, and prints each exit code
   (0 ok, 1 alert). The results are in the child run <RUN>.monitor; `govaudit report <RUN>.monitor` renders them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
DATA = HERE.parents[1] / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv"


def _train(config: Path, overrides: list[str]) -> str:
    from audit.cli import main
    from audit.record.store import RunStore

    before = {r["run_id"] for r in RunStore(WORK / "runs").list()} if (WORK / "runs").exists() else set()
    args = ["--config", str(config), *(f"--set={o}" for o in overrides)]
    if main(["scrub", *args]) != 0:
        sys.exit("scrub failed")
    run_id = next(r["run_id"] for r in RunStore(WORK / "runs").list() if r["run_id"] not in before)
    for stage in ("train", "audit"):
        if main([stage, *args, "--run", run_id]) != 0:
            sys.exit(f"{stage} failed")
    return run_id


def _logs(run_id: str, later: pd.DataFrame) -> list[Path]:
    from audit.core.model_io import load_classifier, predict_proba
    from audit.record.store import RunStore

    store = RunStore(WORK / "runs")
    record = store.load(run_id)
    classifier = load_classifier(store.artifact(run_id, record.train.model_artifact), "cpu")
    proba = predict_proba(classifier, later["narrative"].fillna("").tolist(), batch_size=64, max_length=128)
    labels = classifier.labels
    log = later[["date_received", "narrative", "relief", "age_group", "military_status"]].copy()
    log["prediction"] = np.asarray(labels)[proba.argmax(axis=1)]
    for i, label in enumerate(labels):
        log[f"proba_{label}"] = proba[:, i]
    paths = []
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    for month, part in log.groupby(later["month"]):
        path = WORK / "logs" / f"2023-{month:02d}.csv"
        part.to_csv(path, index=False)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-train", metavar="RUN", help="Reuse an audited run instead of training one.")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="Config override for scrub/train/audit, e.g. model.base=/path/to/local/hf-model.")
    args = parser.parse_args()
    frame = pd.read_csv(DATA, dtype=str)
    frame["month"] = pd.to_datetime(frame["date_received"], format="%m/%d/%y").dt.month
    WORK.mkdir(exist_ok=True)
    frame[frame["month"] <= 4].drop(columns="month").to_csv(WORK / "train_months.csv", index=False)
    run_id = args.skip_train or _train(HERE / "govaudit.yaml", args.set)
    from audit.cli import main as govaudit

    for log in _logs(run_id, frame[frame["month"] > 4]):
        code = govaudit(["monitor", "--run", run_id, "--log", str(log), "--config", str(HERE / "govaudit.yaml"),
                         "--runs-root", str(WORK / "runs"), "--markdown", str(WORK / f"monitor-{log.stem}.md")])
        print(f"== {log.name}: govaudit monitor exit {code}")


if __name__ == "__main__":
    main()
