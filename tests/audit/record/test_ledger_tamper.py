"""Issue #15 attacks on the sign-off trail: rollbacks that delete the newest entries together with every copy of the
head an attacker can reach, and what a broken trail does to approvals."""
import json

import pytest

from audit.cli import main
from audit.core.errors import BadInputError
from audit.record import Artifact, RunRecord
from audit.record.signoff import SignoffLedger, signoff_subject_sha256
from audit.record.store import RunStore

SHA_A = "a" * 64


def _sql(ledger, statement, *args):
    """SQL straight on the ledger's database, as an attacker with database access would run it."""
    from sqlalchemy import text

    with ledger.store.engine.begin() as conn:
        conn.execute(text(statement.replace("?", ":p")), {"p": args[0]} if args else {})


@pytest.fixture
def ledger(tmp_path, db_url):
    store = RunStore(tmp_path / "runs", db_url)
    store.create(RunRecord(run_id="r1"))
    store.create(RunRecord(run_id="r2"))
    return SignoffLedger(store)


def _approve_then_revoke(ledger):
    ledger.sign("r2", SHA_A, "approve", "other run", "ben")
    ledger.sign("r1", SHA_A, "approve", "looks fine", "ana")
    ledger.sign("r1", SHA_A, "reject", "found a leak, revoking", "ben")
    assert not ledger.approved("r1", SHA_A)


def test_rollback_of_the_newest_entry_with_the_head_file_is_broken(ledger):
    _approve_then_revoke(ledger)
    (ledger.store.root / "signoff-head.json").unlink()
    _sql(ledger, "DELETE FROM signoffs WHERE seq=3")
    check = ledger.verify()
    assert not check.ok
    assert any("signoff-head.json is missing" in p for p in check.problems)
    assert any("signoff_head table records entry 3" in p for p in check.problems)
    assert not ledger.approved("r1", SHA_A)
    approval = ledger.approval("r1", SHA_A)
    assert approval.broken and approval.state == "trail broken" and "BROKEN" in approval.reason


def test_rollback_that_also_rewrites_the_head_table_and_file_is_caught_by_the_run_record(ledger):
    _approve_then_revoke(ledger)
    second = ledger.entries()[1]
    _sql(ledger, "DELETE FROM signoffs WHERE seq=3")
    _sql(ledger, "UPDATE signoff_head SET seq=2, entry_hash=?", second.entry_hash)
    (ledger.store.root / "signoff-head.json").write_text(json.dumps({"seq": 2, "entry_hash": second.entry_hash}))
    problems = ledger.verify().problems
    assert problems == [("run r1's signoff-anchor.json names entry 3 as its newest decision but the ledger's newest "
                         "on it is entry 2 (entries deleted or anchor rolled back)")]
    assert not ledger.approved("r1", SHA_A)


def test_full_rewrite_is_caught_only_by_the_external_anchor(ledger):
    _approve_then_revoke(ledger)
    anchor = ledger.verify().head  # what the gate printed into the CI log
    second = ledger.entries()[1]
    _sql(ledger, "DELETE FROM signoffs WHERE seq=3")
    _sql(ledger, "UPDATE signoff_head SET seq=2, entry_hash=?", second.entry_hash)
    (ledger.store.root / "signoff-head.json").write_text(json.dumps({"seq": 2, "entry_hash": second.entry_hash}))
    (ledger.store.run_dir("r1") / "signoff-anchor.json").write_text(
        json.dumps({"seq": 2, "entry_hash": second.entry_hash}))
    assert ledger.verify().ok  # consistent forgery of every copy the attacker can reach
    check = ledger.verify(expect_head=anchor)
    assert not check.ok and "external anchor" in check.problems[0]
    assert ledger.verify(expect_head=second.entry_hash).ok  # an older head is still in the chain


def test_deleting_a_runs_only_decision_is_caught_by_its_record(ledger):
    ledger.sign("r1", SHA_A, "approve", "ok", "ana")
    _sql(ledger, "DELETE FROM signoffs")
    _sql(ledger, "DELETE FROM signoff_head")
    (ledger.store.root / "signoff-head.json").unlink()
    assert any("the ledger has no decision on it" in p for p in ledger.verify().problems)


def test_missing_head_row_is_broken(ledger):
    ledger.sign("r1", SHA_A, "approve", "ok", "ana")
    _sql(ledger, "DELETE FROM signoff_head")
    assert any("signoff_head table is missing" in p for p in ledger.verify().problems)


def test_a_broken_trail_refuses_new_decisions(ledger):
    ledger.sign("r1", SHA_A, "approve", "ok", "ana")
    _sql(ledger, "UPDATE signoffs SET comment='x' WHERE seq=1")
    with pytest.raises(BadInputError, match="BROKEN"):
        ledger.sign("r1", SHA_A, "reject", "no", "ben")


def test_a_decision_does_not_change_the_record_file(ledger):
    store = ledger.store
    before = store.record_sha256("r1")
    stale = store.load("r1")  # a stage read the record before the decision...
    ledger.sign("r1", SHA_A, "approve", "ok", "ana")
    assert store.record_sha256("r1") == before and store.signoff_anchor("r1").seq == 1
    stale.notice("audit", "x", "y")
    store.save(stale)  # ...and saves after it: no conflict, the anchor stays
    assert ledger.verify().ok


def test_a_deleted_anchor_file_is_broken(ledger):
    ledger.sign("r1", SHA_A, "approve", "ok", "ana")
    (ledger.store.run_dir("r1") / "signoff-anchor.json").unlink()
    assert any("has no signoff-anchor.json" in p for p in ledger.verify().problems)


def test_cli_verify_ledger_rollback_and_expect_head(ledger, capsys):
    _approve_then_revoke(ledger)
    root, url = str(ledger.store.root), ledger.store.database_url
    head = ledger.verify().head
    assert main(["dashboard", "verify-ledger", "--runs-root", root, "--db-url", url, "--expect-head", head]) == 0
    (ledger.store.root / "signoff-head.json").unlink()
    _sql(ledger, "DELETE FROM signoffs WHERE seq=3")
    capsys.readouterr()
    assert main(["dashboard", "verify-ledger", "--runs-root", root, "--db-url", url]) == 2
    out = capsys.readouterr().out
    assert "BROKEN" in out and "intact" not in out


def test_subject_hash_covers_the_artifacts():
    record = RunRecord(run_id="r1")
    base = signoff_subject_sha256(record)
    record.artifacts = [Artifact(path="m.bin", sha256=SHA_A, bytes=1, stage="train")]
    assert signoff_subject_sha256(record) != base


def _signer(root: str, url: str | None, reviewer: str, n: int) -> None:
    ledger = SignoffLedger(RunStore(root, url))
    for i in range(n):
        ledger.sign("r1", SHA_A, "request_changes", f"round {i}", reviewer)


def test_two_concurrent_signers_keep_one_intact_chain(ledger):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    url = None if ledger.store.database_url.startswith("sqlite") else ledger.store.database_url
    procs = [ctx.Process(target=_signer, args=(str(ledger.store.root), url, name, 15)) for name in ("ana", "ben")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    check = ledger.verify()
    assert check.ok and check.entries == 30, check.problems
    assert ledger.store.signoff_anchor("r1").seq == 30


def _legacy_ledger(tmp_path):
    """A ledger as the version before issue #15 wrote it: no `acknowledged` column, no head table, no anchors."""
    import sqlite3

    from audit.record.signoff import GENESIS, entry_hash

    store = RunStore(tmp_path / "old")
    store.root.mkdir(parents=True)
    con = sqlite3.connect(store.root / "index.sqlite")
    con.execute("CREATE TABLE signoffs (seq INTEGER PRIMARY KEY, run_id VARCHAR(128) NOT NULL, record_sha256 "
                "VARCHAR(64) NOT NULL, decision VARCHAR(20) NOT NULL, comment TEXT NOT NULL, reviewer VARCHAR(256) "
                "NOT NULL, auth VARCHAR(20) NOT NULL, created_at VARCHAR(40) NOT NULL, prev_hash VARCHAR(64) NOT "
                "NULL, entry_hash VARCHAR(64) NOT NULL)")
    fields = {"seq": 1, "run_id": "r1", "record_sha256": SHA_A, "decision": "approve", "comment": "ok",
              "reviewer": "ana", "auth": "password", "created_at": "2026-01-01T00:00:00+00:00", "prev_hash": GENESIS}
    fields["entry_hash"] = entry_hash(fields)
    con.execute("INSERT INTO signoffs VALUES (?,?,?,?,?,?,?,?,?,?)", list(fields.values()))
    con.commit()
    con.close()
    store.create(RunRecord(run_id="r1"))
    return store, fields["entry_hash"]


def test_a_ledger_from_before_the_head_table_is_adopted_when_its_head_file_matches(tmp_path):
    store, head = _legacy_ledger(tmp_path)
    (store.root / "signoff-head.json").write_text(json.dumps({"seq": 1, "entry_hash": head}))
    ledger = SignoffLedger(store)
    assert ledger.verify().ok and ledger.approved("r1", SHA_A)
    assert store.signoff_anchor("r1").entry_hash == head
    assert ledger.sign("r1", SHA_A, "reject", "second look", "ben").seq == 2 and ledger.verify().ok


def test_a_ledger_from_before_the_head_table_without_its_head_file_is_broken(tmp_path):
    store, _ = _legacy_ledger(tmp_path)
    assert not SignoffLedger(store).verify().ok
