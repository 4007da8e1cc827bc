"""Issue #15 reviewer security: server-side lockout with backoff, an append-only audit log, no silent overwrite,
a password policy."""
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from audit.cli import main
from audit.core.errors import BadInputError
from audit.record.reviewers import MAX_FAILURES, ReviewerList, check_password_policy

PASSWORD = "correct horse battery"


@pytest.fixture
def reviewers(tmp_path):
    people = ReviewerList(tmp_path / "reviewers.json")
    people.add("alice", PASSWORD)
    return people


def test_lockout_is_kept_on_the_server_and_backs_off(reviewers, tmp_path):
    for _ in range(MAX_FAILURES):
        assert reviewers.authenticate("alice", "wrong password") is None
    fresh = ReviewerList(tmp_path / "reviewers.json")  # a reloaded page / a new process: same lockout
    assert fresh.authenticate("alice", PASSWORD) is None
    until = fresh.locked_until("alice")
    now = datetime.now(UTC)
    assert until is not None and timedelta(seconds=20) < until - now <= timedelta(seconds=30)
    assert fresh.locked_until("alice", now=until + timedelta(seconds=1)) is None
    fresh.authenticate("alice", "wrong again")  # refused while locked: not even checked, not counted
    events = [e["event"] for e in fresh.events()]
    assert events.count("login_failed") == MAX_FAILURES and events.count("login_refused_locked") == 2


def test_backoff_doubles_and_a_success_resets(reviewers):
    log = reviewers.log_path
    for _ in range(MAX_FAILURES + 2):  # two failures past the limit: 30 s doubled twice
        reviewers.log("login_failed", "alice", "test")
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    last = datetime.fromisoformat(lines[-1]["at"])
    assert reviewers.locked_until("alice", now=last) == last + timedelta(seconds=120)
    assert reviewers.locked_until("alice", now=last + timedelta(seconds=121)) is None
    reviewers.log("login", "alice", "test")
    assert reviewers.locked_until("alice", now=last) is None


def test_unknown_names_lock_too_without_revealing_anything(reviewers):
    for _ in range(MAX_FAILURES):
        assert reviewers.authenticate("mallory", "guess guess guess") is None
    assert reviewers.locked_until("mallory") is not None
    assert reviewers.authenticate("alice", PASSWORD).name == "alice"  # other names are unaffected


def test_audit_log_records_changes_and_detects_edits(reviewers):
    reviewers.authenticate("alice", PASSWORD, source="dashboard")
    reviewers.add("alice", "a different long phrase", reset=True)
    reviewers.disable("alice")
    assert [e["event"] for e in reviewers.events()] == ["reviewer_added", "login", "password_reset",
                                                        "reviewer_disabled"]
    assert PASSWORD not in reviewers.log_path.read_text()
    assert reviewers.verify_log() == []
    assert reviewers.get("alice") is None and reviewers.authenticate("alice", "a different long phrase") is None
    lines = reviewers.log_path.read_text().splitlines()
    reviewers.log_path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")  # hide the log-in
    assert reviewers.verify_log() == ["audit log line 2 was edited, deleted or reordered"]


def test_add_reviewer_refuses_to_overwrite_without_reset(reviewers):
    before = reviewers.path.read_text()
    with pytest.raises(BadInputError, match="already exists.*nothing was changed"):
        reviewers.add("alice", "mallory's own phrase")
    assert reviewers.path.read_text() == before


@pytest.mark.parametrize("password,match", [
    ("aaaaaaaaaaaa", "different characters"), ("short", "shorter"), ("password1234", "common"),
    ("Qwertyuiop!!", "common"), ("alice-is-great-2024", "name"),
])
def test_password_policy(password, match):
    with pytest.raises(BadInputError, match=match):
        check_password_policy(password, "alice")
    check_password_policy("plum orbit lantern", "alice")


def test_cli_add_reviewer_reset_and_disable(tmp_path, monkeypatch, capsys):
    root = ["--runs-root", str(tmp_path)]
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["dashboard", "add-reviewer", "alice", *root, "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another long phrase\n"))
    assert main(["dashboard", "add-reviewer", "alice", *root, "--password-stdin"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert ReviewerList(tmp_path / "reviewers.json").authenticate("alice", PASSWORD) is not None
    monkeypatch.setattr("sys.stdin", io.StringIO("aaaaaaaaaaaaaaa\n"))
    assert main(["dashboard", "add-reviewer", "bob", *root, "--password-stdin"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("another long phrase\n"))
    assert main(["dashboard", "add-reviewer", "alice", *root, "--password-stdin", "--reset"]) == 0
    assert main(["dashboard", "disable-reviewer", "alice", *root]) == 0
    assert ReviewerList(tmp_path / "reviewers.json").get("alice") is None
