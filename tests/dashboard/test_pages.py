"""Dashboard pages through Streamlit's AppTest: rendering, filters, bad input, sign-off flow, tamper detection."""
import json
import sqlite3
from pathlib import Path

import pytest
from record_factory import make_hostile_record, make_minimal_record, make_mitigated_record, make_record
from apptest_tabs import each_tab, open_tab
from streamlit.testing.v1 import AppTest

from audit.record import SCHEMA_VERSION
from audit.record.reviewers import ReviewerList
from audit.record.signoff import SignoffLedger, signoff_subject_sha256
from audit.record.store import RunStore
from dashboard.screens.compare import check_changes, metric_deltas
from dashboard.screens.runs import filter_runs

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PASSWORD = "correct horse battery"


@pytest.fixture
def runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    store = RunStore(root)
    before = store.create(make_record("run-before"))
    after = store.create(make_mitigated_record(before, run_id="run-after"))
    store.create(make_minimal_record("run-empty"))
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(root))
    monkeypatch.setenv("GOVAUDIT_REVIEWERS", str(root / "reviewers.json"))
    ReviewerList(root / "reviewers.json").add("ana", PASSWORD, email="ana@example.org")
    return store, before, after


def page(name: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    if name:
        at.switch_page(f"views/{name}.py")
        at.query_params.update(query)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    """Element texts with Markdown escapes removed."""
    return "\n".join(str(e.value) for e in elements).replace("\\", "")


def widget(widgets, label):
    return next(w for w in widgets if w.label == label)


def test_runs_page_lists_runs_with_verdict_and_signoff(runs):
    at = page()
    frame = at.dataframe[0].value
    assert sorted(frame["open"]) == ["run?run=run-after", "run?run=run-before", "run?run=run-empty"]
    by_run = frame.set_index("open")
    assert by_run.loc["run?run=run-before", "verdict"] == "fail" and by_run.loc["run?run=run-before", "failed_checks"] == 1
    assert by_run.loc["run?run=run-empty", "verdict"] == "not run"
    assert set(frame["signoff"]) == {"none"}
    widget(at.multiselect, "Verdict").set_value(["fail"]).run()
    assert list(at.dataframe[0].value["open"]) == ["run?run=run-before"]
    widget(at.multiselect, "Verdict").set_value([]).run()
    widget(at.text_input, "Search").set_value("empty").run()
    assert list(at.dataframe[0].value["open"]) == ["run?run=run-empty"]
    assert "1 of 3 runs" in texts(at.caption)


def test_filter_and_sort_on_the_index_frame(runs):
    store, before, _ = runs
    ledger = SignoffLedger(store)
    ledger.sign("run-before", signoff_subject_sha256(before), "approve", "ok", "ana")
    from dashboard.data import runs_frame

    frame = runs_frame(store, ledger)
    assert list(filter_runs(frame, signoffs=["approved"])["run_id"]) == ["run-before"]
    assert list(filter_runs(frame, sort="most failed checks")["run_id"])[0] == "run-before"
    assert list(filter_runs(frame, statuses=["running"])["run_id"]) == ["run-empty"]
    store.save(store.load("run-before"))  # same evidence, new updated_at: still approved
    assert runs_frame(store, ledger).set_index("run_id").loc["run-before", "signoff"] == "approved"
    changed = store.load("run-before")
    changed.notice("audit", "x", "new evidence")
    store.save(changed)
    assert runs_frame(store, ledger).set_index("run_id").loc["run-before", "signoff"] == "approved (older evidence)"


def test_run_page_shows_verdict_failing_checks_first_and_evidence(runs):
    at = page("run", run="run-before")
    assert "Verdict: FAIL" in texts(at.error)
    open_checks = at.dataframe[0].value
    assert list(open_checks["status"]) == ["fail", "warn"]
    charts = len(at.get("vega_lite_chart"))  # fairness; the tabs are lazy: the others are counted as opened below
    assert "0.8, the four-fifths rule" in texts(at.caption)
    fairness = next(d.value for d in at.dataframe if "ci_low" in d.value.columns)
    assert list(fairness["label"]) == ["not older", "older american", "unknown"]
    assert fairness.loc[1, "value"] == pytest.approx(0.22 / 0.31, abs=1e-3)
    widget(at.selectbox, "Sensitive feature or intersection").set_value("age_group × military_status").run()
    widget(at.selectbox, "Metric").set_value("selection_rate").run()
    fairness = next(d.value for d in at.dataframe if "ci_low" in d.value.columns)
    assert len(fairness) == 4 and fairness.loc[3, "excluded"]
    assert fairness.loc[0, "value"] == pytest.approx(0.32)
    html, text = [], []
    for tab in ("Counterfactual", "Attribution", "Training"):
        open_tab(at, tab)
        charts += len(at.get("vega_lite_chart"))
        html += at.html
        text += at.text
    assert charts >= 3  # fairness, counterfactual families and templates, curves
    heat = texts(html)
    assert "rollover" in heat and "rgba(192,57,43" in heat and "rgba(41,128,185" in heat
    assert "row c-101" in texts(text)
    open_tab(at, "Downloads")
    assert {b.label for b in at.download_button} >= {"Download run record (JSON)"}


def test_run_page_with_no_sections_says_not_run(runs):
    at = page("run", run="run-empty")
    infos = texts(at.info) + "".join(texts(tab.info) for tab in each_tab(at))
    assert "Verdict: not run" in infos
    for stage in ("Fairness audit", "Counterfactual", "Attributions", "PII scrubbing", "Training"):
        assert f"{stage}" in infos and "not run in this run" in infos


def test_hostile_text_is_escaped(runs):
    store, _, _ = runs
    store.create(make_hostile_record("run-hostile"))
    at = page("run", run="run-hostile")
    elements, html = [*at.markdown, *at.caption, *at.warning], list(at.html)
    for tab in each_tab(at):  # each tab's elements, read before the next rerun replaces them
        elements += [*tab.markdown, *tab.caption, *tab.warning]
        html += tab.html
    heat = texts(html)
    assert "<script>" not in heat and "&lt;script&gt;" in heat and "onerror=" not in heat.replace("onerror=&quot;", "")
    raw = "\n".join(str(e.value) for e in elements)
    assert "click" in raw and "[click](" not in raw and "<img" not in raw.replace("\\<img", "")


@pytest.mark.parametrize("content,message", [
    ("{broken", "corrupt run record"),
    (json.dumps({"schema_version": SCHEMA_VERSION + 1, "run_id": "run-before"}), "newer than this govaudit supports"),
])
def test_corrupt_or_newer_record_is_a_clear_message(runs, content, message):
    store, _, _ = runs
    (store.run_dir("run-before") / "record.json").write_text(content)
    at = page("run", run="run-before")
    assert message in texts(at.error)


def test_missing_and_locked_store_are_clear_errors(runs, monkeypatch, tmp_path):
    store, _, _ = runs
    con = sqlite3.connect(store.root / "index.sqlite", timeout=0)
    con.execute("BEGIN EXCLUSIVE")
    monkeypatch.setenv("GOVAUDIT_DB_URL", f"sqlite:///{store.root / 'index.sqlite'}?timeout=0.1")
    try:
        at = page()
        assert "locked" in texts(at.error)
    finally:
        con.rollback()
        con.close()
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(tmp_path / "missing"))
    for name in (None, "run", "compare", "signoff"):
        assert "run store not found" in texts(page(name).error)


def test_compare_page_shows_verdict_change_and_deltas(runs):
    _, before, after = runs
    at = page("compare", a="run-before", b="run-after")
    assert "Verdict changed: fail → warn" in texts(at.markdown)
    checks = at.dataframe[0].value
    four_fifths = checks[checks["check"].str.contains("Impact ratio")].iloc[0]
    assert (four_fifths["A"], four_fifths["B"], four_fifths["changed"]) == ("fail", "pass", True)
    deltas = metric_deltas(before, after).set_index("metric")
    key = "fairness · age_group · older american · impact_ratio"
    assert deltas.loc[key, "B - A"] == pytest.approx(deltas.loc[key, "B"] - deltas.loc[key, "A"])
    assert deltas.loc[key, "B - A"] > 0
    assert check_changes(before, before)["changed"].sum() == 0


def _login(at: AppTest, name: str, password: str) -> AppTest:
    widget(at.text_input, "Reviewer name").set_value(name)
    widget(at.text_input, "Password").set_value(password)
    return widget(at.button, "Log in").click().run()


def test_signoff_flow_rejects_unauthenticated_then_records_a_bound_decision(runs):
    store, before, _ = runs
    ledger = SignoffLedger(store)
    at = page("signoff", run="run-before")
    assert "Only reviewers can sign off" in texts(at.info)
    assert not any(b.label == "Record decision" for b in at.button)
    at.session_state["govaudit_reviewer"] = "mallory"  # forged session: not on the list
    at.run()
    assert not any(b.label == "Record decision" for b in at.button)
    _login(at, "ana", "wrong password!")
    assert "Log-in failed" in texts(at.error)
    assert ledger.entries() == []
    _login(at, "ana", PASSWORD)
    assert any(b.label == "Record decision" for b in at.button)
    widget(at.radio, "Decision").set_value("approve")
    widget(at.button, "Record decision").click().run()
    assert "comment is required" in texts(at.error)
    assert ledger.entries() == []
    widget(at.radio, "Decision").set_value("approve")
    widget(at.text_area, "Comment (required)").set_value("Checked CIs and residual PII.")
    widget(at.button, "Record decision").click().run()
    assert "risk acceptance" in texts(at.error) and ledger.entries() == []  # issue #15: FAIL run needs acceptance
    widget(at.radio, "Decision").set_value("approve")
    widget(at.text_area, "Comment (required)").set_value("Checked CIs and residual PII.")
    widget(at.text_input, "Risk acceptance for fairness.four_fifths (required to approve)").set_value(
        "older-american group re-sampled; ticket RISK-7")
    widget(at.button, "Record decision").click().run()
    assert "Recorded: approve by ana" in texts(at.success)
    (entry,) = ledger.entries()
    assert (entry.run_id, entry.reviewer, entry.auth) == ("run-before", "ana", "password")
    assert entry.record_sha256 == signoff_subject_sha256(store.load("run-before"))
    assert ledger.approved("run-before", signoff_subject_sha256(before))
    assert "Approved for this evidence" in texts(at.markdown)


def test_tampering_with_the_database_shows_a_broken_chain(runs):
    store, before, _ = runs
    SignoffLedger(store).sign("run-before", signoff_subject_sha256(before), "reject", "bias", "ana")
    con = sqlite3.connect(store.root / "index.sqlite")
    con.execute("UPDATE signoffs SET decision='approve' WHERE seq=1")
    con.commit()
    con.close()
    at = page("signoff", run="run-before")
    assert "chain is broken" in texts(at.error)
    assert "entry 1 was edited" in texts(at.markdown)
    assert "Not approved for this evidence" in texts(at.markdown)
    _login(at, "ana", PASSWORD)
    assert widget(at.button, "Record decision").disabled
    assert "sign-off trail is BROKEN" in texts(page().error)


def test_oidc_user_on_the_list_can_sign_off(runs):
    store, _, _ = runs
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.user = {"is_logged_in": True, "email": "ANA@example.org", "name": "Ana"}
    at.run()
    at.switch_page("views/signoff.py")
    at.query_params["run"] = "run-after"
    at.run()
    assert "Signed in as ana (oidc)" in texts(at.caption)
    widget(at.text_area, "Comment (required)").set_value("ok")
    widget(at.button, "Record decision").click().run()
    assert [e.auth for e in SignoffLedger(store).entries()] == ["oidc"]
    at.user = {"is_logged_in": True, "email": "eve@example.org"}
    at.run()
    assert "not on the reviewer list" in texts(at.warning)


def test_score_distribution_from_the_predictions_artifact(runs):
    import pandas as pd

    store, before, _ = runs
    pd.DataFrame({"row_id": ["a", "b", "c", "d"], "prob_relief": [0.1, 0.2, 0.8, 0.9],
                  "age_group": ["not older", "not older", "older american", "older american"]}).to_parquet(
        store.artifact("run-before", before.fairness.predictions_artifact))
    at = page("run", run="run-before")
    assert "Distribution of P(relief) by age_group" in texts(at.markdown)
    from dashboard.data import score_histogram

    path = store.artifact("run-before", "predictions.parquet")
    hist = score_histogram(str(path), (1, 1), "age_group", "relief", bins=2)
    assert hist.set_index(["group", "bin_start"])["share"].to_dict() == {
        ("not older", 0.0): 1.0, ("not older", 0.5): 0.0, ("older american", 0.0): 0.0, ("older american", 0.5): 1.0}
    assert score_histogram(str(path), (1, 1), "military_status", "relief") is None


def test_dashboard_command_binds_to_localhost_by_default(runs, monkeypatch):
    from audit.cli import main

    store, _, _ = runs
    calls = []
    monkeypatch.setattr("os.execve", lambda path, argv, env: calls.append((argv, env)))
    assert main(["dashboard", "--runs-root", str(store.root), "--port", "8599"]) == 0
    argv, env = calls[0]
    assert "--server.address=127.0.0.1" in argv and "--server.port=8599" in argv and str(APP) in argv
    assert "--browser.gatherUsageStats=false" in argv and "--server.headless=true" in argv
    assert env["GOVAUDIT_RUNS_ROOT"] == str(store.root.resolve())
    assert main(["dashboard", "--runs-root", str(store.root), "--host", "0.0.0.0"]) == 0
    assert "--server.address=0.0.0.0" in calls[1][0]
