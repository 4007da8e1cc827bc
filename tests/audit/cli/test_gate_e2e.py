"""End to end with tiny real models: scrub -> train -> audit -> gate through the CLI (and `gate --run-audit`).

A model trained on data where the outcome follows a group proxy in the text is blocked (exit 1, the failing check names
the group and its impact ratio); the same pipeline on data where the outcome follows the content passes (exit 0).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from tiny_models import make_tiny_model

from audit.cli import main
from audit.record.store import RunStore

POSITIVE = ["refund issued after review", "fees were reversed by the lender", "company corrected the balance",
            "they returned the overcharge", "account credited back in full"]
NEGATIVE = ["nothing changed after my call", "the lender ignored my letter", "no answer from the company",
            "they kept charging interest", "still waiting on any reply"]
PROXY = {"older": "as a retired pensioner", "younger": "as a college student"}
LABELS = ["no_relief", "relief"]

POLICY = """
name: e2e
on_missing: warn
min_group_size: 10
checks:
  impact_ratio: {min: 0.8, severity: block}
  residual_pii: {severity: block, on_missing: fail}
  no_training_waiver: {severity: block}
  macro_f1: {min: 0.8, severity: block}
"""


def _table(n_per_cell: int, biased: bool, seed: int) -> pd.DataFrame:
    """Equal cells of (group, content); biased: the label follows the group, else it follows the content."""
    rng = np.random.default_rng(seed)
    rows = []
    for group, proxy in PROXY.items():
        for positive in (True, False):
            for k in range(n_per_cell):
                pool = POSITIVE if positive else NEGATIVE
                text = f"{proxy}, {pool[int(rng.integers(len(pool)))]}"
                favourable = (group == "younger") if biased else positive
                rows.append({"complaint_id": f"s{seed}-{len(rows)}", "narrative": text,
                             "relief": LABELS[int(favourable)], "age_group": group})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _project(tmp: Path, biased: bool, base: Path) -> Path:
    _table(30, biased, seed=1).to_csv(tmp / "train.csv", index=False)
    _table(20, biased, seed=2).to_csv(tmp / "heldout.csv", index=False)
    config = {"name": "e2e", "data": {"train": {"path": "train.csv"}, "text_columns": ["narrative"],
                                      "label_column": "relief", "id_column": "complaint_id",
                                      "sensitive_features": ["age_group"]},
              "model": {"base": str(base), "max_length": 16},
              "split": {"validation_size": 0.1, "test_size": 0.1, "seed": 3},
              "scrub": {"mode": "patterns", "entities": ["EMAIL_ADDRESS", "PHONE_NUMBER"]},
              "train": {"epochs": 5, "batch_size": 8, "learning_rate": 5e-3, "early_stopping_patience": 0,
                        "checkpoint_every_steps": 1000},
              "fairness": {"favorable_label": "relief", "n_boot": 50, "min_group_size": 10},
              "counterfactual": {"enabled": False}, "attribution": {"enabled": False},
              "runs": {"root": "runs"}}
    (tmp / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp / "policy.yaml").write_text(POLICY, encoding="utf-8")
    return tmp / "govaudit.yaml"


def tiny_base(directory: Path) -> Path:
    """A tiny BERT knowing every word of the data; the tokenizer is rebuilt from vocab.txt as a dict because
    `tiny_models.make_tiny_tokenizer` (BertTokenizerFast(vocab_file=...)) keeps only the special tokens on
    transformers 5, which would make every word [UNK]."""
    from transformers import BertTokenizerFast

    words = " ".join(POSITIVE + NEGATIVE + list(PROXY.values())).split()
    base = make_tiny_model(directory, LABELS, [" ".join(words)])
    vocab = [w for w in (base / "vocab.txt").read_text(encoding="utf-8").splitlines() if w]
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True).save_pretrained(base)
    return base


def _pipeline(tmp: Path, biased: bool, capsys) -> tuple[int, str, RunStore, str]:
    base = tiny_base(tmp / "base")
    config = _project(tmp, biased, base)
    common = ["--config", str(config), "--runs-root", str(tmp / "runs")]
    outputs = ["--policy", str(tmp / "policy.yaml"), "--junit", str(tmp / "junit.xml")]
    if biased:  # one command: scrub, train, audit (on the run's test split), gate
        code = main(["--quiet", "gate", "--run-audit", *common, "--set", "split.test_size=0.4", "--device", "cpu",
                     *outputs])
        out = capsys.readouterr().out
        return code, out, RunStore(tmp / "runs"), out.split("run ", 1)[1].split(",", 1)[0]
    assert main(["--json", "scrub", *common]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["--quiet", "train", *common, "--run", run_id, "--device", "cpu"]) == 0
    assert main(["--quiet", "audit", *common, "--run", run_id, "--data", str(tmp / "heldout.csv"),
                 "--device", "cpu"]) == 0
    capsys.readouterr()
    code = main(["gate", run_id, "--runs-root", str(tmp / "runs"), *outputs])
    return code, capsys.readouterr().out, RunStore(tmp / "runs"), run_id


def test_run_audit_usage_errors_exit_2(tmp_path, capsys):
    assert main(["gate", "--run-audit"]) == 2
    assert "--run-audit needs --config" in capsys.readouterr().err
    assert main(["gate"]) == 2
    assert "give RUN" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("name: p\nchecks: {vibes: {}}\n", encoding="utf-8")
    assert main(["gate", "--run-audit", "--config", str(tmp_path / "missing.yaml"), "--policy",
                 str(tmp_path / "bad.yaml")]) == 2
    assert "unknown check" in capsys.readouterr().err  # the policy is checked before any stage runs


@pytest.mark.parametrize("biased", [True, False], ids=["planted_bias", "unbiased"])
def test_gate_blocks_planted_bias_and_passes_unbiased(biased, tmp_path, capsys):
    code, out, store, run_id = _pipeline(tmp_path, biased, capsys)
    record = store.load(run_id)
    assert record.scrub is not None and record.train is not None and record.fairness is not None
    impact = next(c for c in record.policy.checks if c.id == "impact_ratio:age_group")
    assert next(c for c in record.policy.checks if c.id == "residual_pii").status == "pass"
    assert next(c for c in record.policy.checks if c.id == "macro_f1").status == "pass"  # both models learned
    if biased:
        assert code == 1 and record.policy.verdict == "fail"
        assert impact.status == "fail" and impact.subject == "age_group=older" and impact.measured < 0.8
        line = next(line for line in out.splitlines() if line.startswith("FAIL (blocks) impact_ratio:age_group"))
        assert "age_group=older" in line and f"impact ratio {impact.measured:.3f}" in line
    else:
        assert code == 0 and record.policy.verdict == "pass", out
        assert impact.status == "pass" and impact.measured >= 0.8
    assert (tmp_path / "junit.xml").is_file()
