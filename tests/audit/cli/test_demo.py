"""`govaudit demo` wiring: every stage runs through the CLI and the run ends with a verdict, report and JUnit file.

The real demo fine-tunes MiniLM for minutes; here the same command runs with a tiny BERT and patterns-only
scrubbing (the overrides a user could pass with --set), so the test checks the orchestration, not model quality.
"""
import json

import pandas as pd
from tiny_models import make_tiny_model

from audit.cli import main
from audit.cli.demo import DEMO_CONFIG
from audit.record.store import RunStore


def test_demo_runs_every_stage_and_ends_with_a_verdict(tmp_path, capsys):
    frame = pd.read_csv(DEMO_CONFIG.parent / "cfpb_payday_complaints.csv", dtype=str)
    model = make_tiny_model(tmp_path / "tiny", ["no_relief", "relief"], frame["narrative"].head(300).tolist())
    root = tmp_path / "runs"
    code = main(["--quiet", "demo", "--runs-root", str(root), "--set", f"model.base={model}",
                 "--set", "model.max_length=32", "--set", "scrub.mode=patterns", "--set", "train.epochs=1",
                 "--set", "counterfactual.max_examples=40", "--set", "attribution.sample_size=8",
                 "--set", "fairness.n_boot=20"])
    out = capsys.readouterr().out
    assert code == 0
    run_id = RunStore(root).list()[0]["run_id"]
    record = json.loads((root / run_id / "record.json").read_text())
    assert record["stages"] == ["scrub", "train", "audit"]
    assert record["policy"]["verdict"] in {"pass", "warn", "fail"}
    assert record["counterfactual"] is not None and record["attribution"] is not None
    assert (root / run_id / "report.html").is_file() and (root / run_id / "junit.xml").is_file()
    assert f"Demo run {run_id}" in out and f"run?run={run_id}" in out
