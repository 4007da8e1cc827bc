"""Issue #15 `govaudit signoff`: the dashboard's decision for headless workflows, same ledger and rules."""
import csv
import io
import json

import pytest
from record_factory import make_record

from audit.cli import main
from audit.record.reviewers import ReviewerList
from audit.record.signoff import SignoffLedger, signoff_subject_sha256
from audit.record.store import RunStore

PASSWORD = "correct horse battery"
ACK = "fairness.four_fifths=older-american group re-sampled; ticket RISK-7"


@pytest.fixture
def env(tmp_path, db_url, monkeypatch):
    store = RunStore(tmp_path / "runs", db_url)
    store.create(make_record("r1"))  # verdict fail: fairness.four_fifths blocks
    ReviewerList(store.root / "reviewers.json").add("ana", PASSWORD)
    args = ["--runs-root", str(store.root)]
    if db_url:
        args += ["--db-url", db_url]

    def run(*argv: str, password: str = PASSWORD) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return main([*argv[:2], *args, *argv[2:]] if argv[0] != "--json" else [*argv[:3], *args, *argv[3:]])
    return store, run


def test_approve_needs_a_risk_acceptance_then_binds_to_the_evidence(env, capsys):
    store, run = env
    assert run("signoff", "approve", "r1", "-r", "ana", "-m", "ok", "--password-stdin") == 2
    assert "missing: fairness.four_fifths" in capsys.readouterr().err
    assert run("signoff", "approve", "r1", "-r", "ana", "-m", "ok", "--password-stdin", "--ack", ACK) == 0
    (entry,) = SignoffLedger(store).entries()
    assert entry.record_sha256 == signoff_subject_sha256(store.load("r1"))
    assert entry.acknowledgements == {"fairness.four_fifths": "older-american group re-sampled; ticket RISK-7"}
    capsys.readouterr()
    assert run("--json", "signoff", "history", "r1") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["approved"] is True and payload["entries"][0]["reviewer"] == "ana"


def test_wrong_password_is_refused_logged_and_locks(env, capsys):
    store, run = env
    for _ in range(5):
        assert run("signoff", "reject", "r1", "-r", "ana", "-m", "no", "--password-stdin", password="nope") == 2
    assert run("signoff", "reject", "r1", "-r", "ana", "-m", "no", "--password-stdin") == 2
    assert "locked until" in capsys.readouterr().err
    assert SignoffLedger(store).entries() == []
    events = [e["event"] for e in ReviewerList(store.root / "reviewers.json").events()]
    assert events.count("login_failed") == 5 and events[-1] == "login_refused_locked"


def test_mistyped_run_id_is_an_error(env, capsys):
    _, run = env
    assert run("signoff", "reject", "r2", "-r", "ana", "-m", "no", "--password-stdin") == 2
    assert "no run 'r2'" in capsys.readouterr().err


def test_owner_cannot_approve_from_the_cli(env, capsys):
    store, run = env
    record = store.load("r1")
    record.model_card["owner"] = "ana"
    store.save(record)
    assert run("signoff", "approve", "r1", "-r", "ana", "-m", "mine", "--password-stdin", "--ack", ACK) == 2
    assert "separation of duties" in capsys.readouterr().err


def test_export_csv_and_json_for_auditors(env, tmp_path, capsys):
    _, run = env
    assert run("signoff", "request-changes", "r1", "-r", "ana", "-m", "=HYPERLINK(\"x\") CI too wide",
               "--password-stdin") == 0
    assert run("signoff", "export", "--format", "csv", "--out", str(tmp_path / "l.csv")) == 0
    rows = list(csv.DictReader((tmp_path / "l.csv").open()))
    assert rows[0]["decision"] == "request_changes" and rows[0]["comment"].startswith("'=")  # no spreadsheet formula
    capsys.readouterr()
    assert run("signoff", "export") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["intact"] is True and payload["head"] == payload["entries"][-1]["entry_hash"]
