"""Issue #15 at the gate: a broken sign-off trail blocks under every policy and says why; the ledger head goes into
the CI outputs; quorum, expiry and separation of duties from the policy."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from section_builders import fairness, group, grouping

from audit.cli import main
from audit.record import RunRecord
from audit.record.signoff import SignoffLedger, signoff_subject_sha256
from audit.record.store import RunStore


def biased_record(run_id: str, ratio: float) -> RunRecord:
    return RunRecord(run_id=run_id, fairness=fairness(grouping("age_group", [group("younger", 400, 1.0),
                                                                             group("older", 200, ratio)])))


@pytest.fixture()
def env(tmp_path, db_url):
    store = RunStore(tmp_path / "runs", db_url)
    record = biased_record("good", 0.95)
    record.model_card = {"owner": "olga"}
    store.create(record)
    return store, tmp_path


def gate(store, tmp_path, *extra: str) -> int:
    args = ["gate", "good", "--runs-root", str(store.root), "--junit", str(tmp_path / "junit.xml"),
            "--markdown", str(tmp_path / "summary.md"), *extra]
    if store.database_url and not store.database_url.startswith("sqlite"):
        args += ["--db-url", store.database_url]
    return main(args)


def _policy(tmp_path, signoff: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(f"name: p\nchecks:\n  impact_ratio: {{min: 0.8}}\n  reviewer_signoff: {signoff}\n")
    return str(path)


def _rollback(store):
    from sqlalchemy import text

    ledger = SignoffLedger(store)
    subject = signoff_subject_sha256(store.load("good"))
    ledger.sign("good", subject, "approve", "fine", "alice")
    ledger.sign("good", subject, "reject", "revoked: leak found", "ben")
    (store.root / "signoff-head.json").unlink()
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM signoffs WHERE seq=2"))


def test_rollback_blocks_the_default_policy_and_the_gate_says_why(env, capsys):
    store, tmp_path = env
    _rollback(store)
    assert gate(store, tmp_path) == 1  # default policy: reviewer_signoff is only a warning, tampering is not
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("FAIL (blocks) reviewer_signoff"))
    assert "sign-off trail BROKEN, no approval counts" in line and "signoff-head.json is missing" in line
    assert "sign-off ledger BROKEN" in out
    check = next(c for c in store.load("good").policy.checks if c.id == "reviewer_signoff")
    assert (check.status, check.effect, check.measured) == ("fail", "block", "trail broken")


def test_a_waiver_cannot_downgrade_a_broken_trail(env, capsys):
    store, tmp_path = env
    _rollback(store)
    path = tmp_path / "w.yaml"
    path.write_text("name: w\nchecks:\n  reviewer_signoff: {severity: warn}\nwaivers:\n"
                    "  - {check: reviewer_signoff, owner: o, reason: r, expires: 2999-01-01}\n")
    assert gate(store, tmp_path, "--policy", str(path)) == 1


def test_the_gate_writes_the_ledger_head_into_junit_and_markdown(env, capsys):
    store, tmp_path = env
    entry = SignoffLedger(store).sign("good", signoff_subject_sha256(store.load("good")), "approve", "ok", "alice")
    assert gate(store, tmp_path, "--policy", _policy(tmp_path, "{severity: block}")) == 0
    junit = (tmp_path / "junit.xml").read_text()
    assert f'name="signoff_ledger_head" value="{entry.entry_hash}"' in junit
    assert 'name="signoff_ledger_intact" value="true"' in junit
    assert f"--expect-head {entry.entry_hash}" in (tmp_path / "summary.md").read_text()
    assert f"head {entry.entry_hash}" in capsys.readouterr().out


def test_quorum_of_two_distinct_reviewers(env, capsys):
    store, tmp_path = env
    policy = _policy(tmp_path, "{severity: block, min_approvals: 2}")
    ledger = SignoffLedger(store)
    subject = signoff_subject_sha256(store.load("good"))
    ledger.sign("good", subject, "approve", "ok", "alice")
    assert gate(store, tmp_path, "--policy", policy) == 1
    ledger.sign("good", subject, "approve", "ok again", "alice")  # the same reviewer twice is still one
    assert gate(store, tmp_path, "--policy", policy) == 1
    assert "1 of 2 required" in capsys.readouterr().out
    ledger.sign("good", subject, "approve", "second pair of eyes", "ben")
    assert gate(store, tmp_path, "--policy", policy) == 0


def test_expired_approval_does_not_count(env, capsys):
    store, tmp_path = env
    ledger = SignoffLedger(store)
    subject = signoff_subject_sha256(store.load("good"))
    ledger.sign("good", subject, "approve", "ok", "alice")
    later = datetime.now(UTC) + timedelta(days=31)
    assert ledger.approval("good", subject, max_age_days=30).ok
    late = ledger.approval("good", subject, max_age_days=30, now=later)
    assert not late.ok and "expired" in late.reason
    assert gate(store, tmp_path, "--policy", _policy(tmp_path, "{severity: block, expires_after_days: 30}")) == 0


def test_the_run_owner_cannot_approve(env):
    store, _ = env
    ledger = SignoffLedger(store)
    record = store.load("good")
    subject = signoff_subject_sha256(record)
    from audit.core.errors import BadInputError

    with pytest.raises(BadInputError, match="separation of duties"):
        ledger.decide(record, "approve", "mine, fine", "Olga")
    with pytest.raises(BadInputError, match="separation of duties"):
        ledger.decide(record, "approve", "mine, fine", "o.l", reviewer_email="olga")
    assert ledger.decide(record, "reject", "my own run is not ready", "olga").decision == "reject"
    ledger.sign("good", subject, "approve", "written around the workflow", "olga")
    approval = ledger.approval("good", subject, owner="olga")
    assert not approval.ok and "olga owns the run" in approval.reason


def test_approving_failed_blocking_checks_needs_a_recorded_risk_acceptance(env, capsys):
    store, tmp_path = env
    assert gate(store, tmp_path, "--policy", _policy(tmp_path, "{severity: warn}")) == 0
    bad = biased_record("bad", 0.5)
    store.create(bad)
    main(["gate", "bad", "--runs-root", str(store.root), "--policy", _policy(tmp_path, "{severity: warn}"),
          *(["--db-url", store.database_url] if store.database_url.startswith("postgresql") else [])])
    record = store.load("bad")
    ledger = SignoffLedger(store)
    from audit.core.errors import BadInputError

    with pytest.raises(BadInputError, match="missing: impact_ratio:age_group"):
        ledger.decide(record, "approve", "ship it", "alice")
    with pytest.raises(BadInputError, match="risk acceptance"):
        ledger.decide(record, "approve", "ship it", "alice", acknowledged={"impact_ratio:age_group": "  "})
    entry = ledger.decide(record, "approve", "ship it", "alice",
                          acknowledged={"impact_ratio:age_group": "re-sampled in Q3, ticket RISK-1"})
    assert entry.acknowledgements == {"impact_ratio:age_group": "re-sampled in Q3, ticket RISK-1"}
    assert ledger.verify().ok


def test_json_payload_carries_the_ledger_state(env, capsys):
    store, tmp_path = env
    gate(store, tmp_path, "--json-out", str(tmp_path / "g.json"))
    payload = json.loads((tmp_path / "g.json").read_text())
    assert payload["signoff_ledger"] == {"head": "0" * 64, "entries": 0, "intact": True, "problems": []}
