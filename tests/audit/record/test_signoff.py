"""Sign-off ledger (hash chain, tamper detection, approvals bound to a hash) and the reviewer list."""
import json
import sqlite3

import pytest

from audit.cli import main
from audit.core.errors import BadInputError
from audit.record import RunRecord
from audit.record.reviewers import ReviewerList, check_password, hash_password
from audit.record.signoff import GENESIS, SignoffLedger, entry_hash
from audit.record.store import RunStore

SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture
def ledger(tmp_path, db_url):
    store = RunStore(tmp_path / "runs", db_url)
    store.create(RunRecord(run_id="r1"))
    return SignoffLedger(store)


def _sql(ledger, statement, *args):
    """Run SQL on the ledger's database as an attacker with database access would (no govaudit code)."""
    from sqlalchemy import text

    params = {f"p{i}": arg for i, arg in enumerate(args)}
    for i in range(len(args)):
        statement = statement.replace("?", f":p{i}", 1)
    with ledger.store.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_entries_chain_and_verify(ledger):
    first = ledger.sign("r1", SHA_A, "request_changes", "CI too wide", "ana")
    second = ledger.sign("r1", SHA_A, "approve", "  fine now  ", "ben", auth="oidc")
    assert first.prev_hash == GENESIS and second.prev_hash == first.entry_hash
    assert second.entry_hash == entry_hash(second.as_dict()) and second.comment == "fine now"
    assert [e.seq for e in ledger.history("r1")] == [1, 2]
    check = ledger.verify()
    assert check.ok and check.entries == 2 and check.head == second.entry_hash and not check.warnings


def test_approval_binds_to_the_exact_hash_and_the_latest_decision(ledger):
    assert not ledger.approved("r1", SHA_A)
    ledger.sign("r1", SHA_A, "approve", "ok", "ana")
    assert ledger.approved("r1", SHA_A)
    assert not ledger.approved("r1", SHA_B)
    ledger.sign("r1", SHA_A, "reject", "found a leak", "ben")
    assert not ledger.approved("r1", SHA_A)
    ledger.sign("r1", SHA_B, "approve", "new evidence ok", "ana")
    assert ledger.approved("r1", SHA_B) and not ledger.approved("r1", SHA_A)
    assert {run: e.decision for run, e in ledger.latest().items()} == {"r1": "approve"}


@pytest.mark.parametrize("kwargs,match", [
    ({"comment": "  "}, "needs a comment"),
    ({"decision": "maybe"}, "unknown decision"),
    ({"record_sha256": "xyz"}, "SHA-256"),
    ({"reviewer": ""}, "identity"),
    ({"run_id": "../r1"}, "invalid run id"),
])
def test_bad_decisions_are_refused(ledger, kwargs, match):
    args = {"run_id": "r1", "record_sha256": SHA_A, "decision": "approve", "comment": "ok", "reviewer": "ana"} | kwargs
    with pytest.raises(BadInputError, match=match):
        ledger.sign(**args)
    assert ledger.entries() == []


def test_edited_row_is_detected_and_voids_approval(ledger):
    ledger.sign("r1", SHA_A, "reject", "bias", "ana")
    ledger.sign("r1", SHA_A, "approve", "ok", "ben")
    _sql(ledger, "UPDATE signoffs SET decision='approve', comment='ok' WHERE seq=1")
    check = ledger.verify()
    assert not check.ok and any("entry 1 was edited" in p for p in check.problems)
    assert not ledger.approved("r1", SHA_A)


def test_rehashed_edit_breaks_the_link_to_the_next_entry(ledger):
    ledger.sign("r1", SHA_A, "reject", "bias", "ana")
    ledger.sign("r1", SHA_B, "approve", "ok", "ben")
    row = ledger.entries()[0].as_dict() | {"decision": "approve"}
    _sql(ledger, "UPDATE signoffs SET decision='approve', entry_hash=? WHERE seq=1", entry_hash(row))
    problems = ledger.verify().problems
    assert problems == ["entry 2 does not link to the entry before it (edited or deleted)"]


def test_deleted_rows_are_detected_in_the_middle_and_at_the_end(ledger):
    for i in range(3):
        ledger.sign("r1", SHA_A, "approve", f"ok {i}", "ana")
    _sql(ledger, "DELETE FROM signoffs WHERE seq=3")
    assert any("records entry 3" in p for p in ledger.verify().problems)
    _sql(ledger, "DELETE FROM signoffs WHERE seq=1")
    problems = ledger.verify().problems
    assert any("entries 1..1 are missing" in p for p in problems)
    assert any("entry 2 does not link" in p for p in problems)


def test_missing_head_file_is_a_break_not_a_warning(ledger):
    # issue #15: a missing head used to be a warning; deleting it together with the newest entries passed as intact
    ledger.sign("r1", SHA_A, "approve", "ok", "ana")
    (ledger.store.root / "signoff-head.json").unlink()
    check = ledger.verify()
    assert not check.ok and any("signoff-head.json is missing" in p for p in check.problems)


def test_locked_database_is_a_clear_error(ledger):
    if ledger.store.database_url.startswith("postgresql"):
        pytest.skip("SQLite file locking")
    ledger.sign("r1", SHA_A, "approve", "ok", "ana")
    fresh = SignoffLedger(RunStore(ledger.store.root, f"sqlite:///{ledger.store.root / 'index.sqlite'}?timeout=0.1"))
    assert len(fresh.entries()) == 1
    con = sqlite3.connect(ledger.store.root / "index.sqlite", timeout=0)
    con.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(BadInputError, match="sign-off ledger unavailable.*locked"):
            fresh.entries()
    finally:
        con.rollback()
        con.close()


def test_password_hashes_are_salted_and_checked(tmp_path):
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one != two and "correct" not in one
    assert check_password("correct horse", one) and not check_password("wrong horse!", one)
    assert not check_password("x", "garbage")
    reviewers = ReviewerList(tmp_path / "reviewers.json")
    reviewers.add("ana", "correct horse", email="ana@example.org")
    again = ReviewerList(tmp_path / "reviewers.json")
    assert again.authenticate("ana", "correct horse").name == "ana"
    assert again.authenticate("ana", "wrong") is None and again.authenticate("bob", "correct horse") is None
    assert again.by_email("ANA@example.org").name == "ana"
    assert (tmp_path / "reviewers.json").stat().st_mode & 0o077 == 0
    with pytest.raises(BadInputError, match="shorter"):
        again.add("bob", "short")


def test_cli_add_reviewer_from_stdin_and_verify_ledger(tmp_path, monkeypatch, capsys):
    import io

    root = tmp_path / "runs"
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough secret\n"))
    assert main(["dashboard", "add-reviewer", "ana", "--runs-root", str(root), "--password-stdin"]) == 0
    text = (root / "reviewers.json").read_text()
    assert "long enough secret" not in text and json.loads(text)["reviewers"][0]["name"] == "ana"
    capsys.readouterr()
    assert main(["--json", "dashboard", "reviewers", "--runs-root", str(root)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["password"] is True
    store = RunStore(root)
    store.create(RunRecord(run_id="r1"))
    SignoffLedger(store).sign("r1", SHA_A, "approve", "ok", "ana")
    assert main(["dashboard", "verify-ledger", "--runs-root", str(root)]) == 0
    _sql(SignoffLedger(store), "UPDATE signoffs SET comment='changed' WHERE seq=1")
    assert main(["dashboard", "verify-ledger", "--runs-root", str(root)]) == 2
    assert "entry 1 was edited" in capsys.readouterr().out


def test_cli_dashboard_refuses_a_missing_store(tmp_path, capsys):
    assert main(["dashboard", "--runs-root", str(tmp_path / "nope")]) == 2
    assert "run store not found" in capsys.readouterr().err
