"""Issue #15 on the dashboard: a rolled-back trail approves nothing on any page; mistyped run ids; FAIL runs."""
from pathlib import Path

import pytest
from record_factory import make_record
from streamlit.testing.v1 import AppTest

from audit.record.reviewers import ReviewerList
from audit.record.signoff import SignoffLedger, signoff_subject_sha256
from audit.record.store import RunStore

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PASSWORD = "correct horse battery"


def page(name=None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    if name:
        at.switch_page(f"views/{name}.py")
        at.query_params.update(query)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements).replace("\\", "")


def widget(widgets, label):
    return next(w for w in widgets if w.label == label)


def _login(at, name, password):
    widget(at.text_input, "Reviewer name").set_value(name)
    widget(at.text_input, "Password").set_value(password)
    return widget(at.button, "Log in").click().run()


@pytest.fixture
def runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    store = RunStore(root)
    record = store.create(make_record("run-before"))
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(root))
    monkeypatch.setenv("GOVAUDIT_REVIEWERS", str(root / "reviewers.json"))
    ReviewerList(root / "reviewers.json").add("ana", PASSWORD)
    return store, record


def _rolled_back(store, record):
    from sqlalchemy import text

    ledger = SignoffLedger(store)
    subject = signoff_subject_sha256(record)
    ledger.sign("run-before", subject, "approve", "fine", "alice")
    ledger.sign("run-before", subject, "reject", "revoked", "ben")
    (store.root / "signoff-head.json").unlink()
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM signoffs WHERE seq=2"))


def test_rollback_approves_nothing_on_any_page(runs):
    store, record = runs
    _rolled_back(store, record)
    at = page("signoff", run="run-before")
    assert "Sign-off trail BROKEN" in texts(at.error)
    assert "Not approved for this evidence" in texts(at.markdown)
    assert "Approved for this evidence" not in texts(at.markdown).replace("Not approved", "")
    assert "trail intact" not in texts(at.success)
    run = page("run", run="run-before")
    assert "Sign-off: sign-off trail BROKEN, no approval counts" in texts(run.error)
    assert "(on this evidence)" not in texts(run.caption)
    runs_page = page()
    assert set(runs_page.dataframe[0].value["signoff"]) == {"trail broken"}


def test_a_mistyped_run_id_is_an_error_not_another_runs_form(runs):
    store, _ = runs
    store.create(make_record("run-other"))
    at = page("signoff", run="run-befor")
    assert "No run 'run-befor' in the run store" in texts(at.error)
    assert not at.radio and not at.selectbox and not any(b.label == "Record decision" for b in at.button)
    at = page("signoff", run="../etc")
    assert "No run '../etc'" in texts(at.error)


def test_a_fail_run_preselects_nothing_and_lists_its_blocking_checks(runs):
    at = page("signoff", run="run-before")
    _login(at, "ana", PASSWORD)
    assert widget(at.radio, "Decision").value is None
    assert "Failed blocking checks" in texts(at.markdown) and "fairness.four_fifths" in texts(at.markdown)
    widget(at.text_area, "Comment (required)").set_value("looked")
    widget(at.button, "Record decision").click().run()
    assert "choose a decision" in texts(at.error)


def test_the_owner_cannot_approve_on_the_dashboard(runs, monkeypatch):
    store, record = runs
    record = store.load("run-before")
    record.model_card["owner"] = "ana"
    store.save(record)
    at = page("signoff", run="run-before")
    _login(at, "ana", PASSWORD)
    widget(at.radio, "Decision").set_value("approve")
    widget(at.text_area, "Comment (required)").set_value("mine")
    widget(at.text_input, "Risk acceptance for fairness.four_fifths (required to approve)").set_value("x")
    widget(at.button, "Record decision").click().run()
    assert "separation of duties" in texts(at.error)
    assert SignoffLedger(store).entries() == []


def test_lockout_survives_a_page_reload(runs):
    store, _ = runs
    at = page("signoff", run="run-before")
    for _ in range(5):
        _login(at, "ana", "wrong password!")
    fresh = page("signoff", run="run-before")  # a reload: a new browser session
    _login(fresh, "ana", PASSWORD)
    assert "locked until" in texts(fresh.error)
    assert not any(b.label == "Record decision" for b in fresh.button)
    events = [e["event"] for e in ReviewerList(store.root / "reviewers.json").events()]
    assert events.count("login_failed") == 5 and events[-1] == "login_refused_locked"
