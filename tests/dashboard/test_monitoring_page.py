"""The dashboard's Monitoring page: trends, alerts linking to the window's evidence, no monitored runs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from audit.record import RunRecord
from audit.record.status import monitoring_status
from audit.record.store import RunStore, finish_stage
from dashboard.screens.monitoring import alerts_frame, group_frame, trend_frame
from monitor_synth import log_frame, monitor, write_log

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mon")
    _, result = monitor(tmp, [write_log(log_frame(31, drift="group_selection_falls"), tmp / "log.csv")], 31)
    return result


def _page(monkeypatch, root: Path, **query) -> AppTest:
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("views/monitoring.py")
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_frames_mark_alerts_and_link_to_evidence(section):
    alerts = alerts_frame(section, "r.monitor")
    assert set(alerts["check"]) >= {"impact_ratio", "selection_rate_change"}
    assert alerts["evidence"].iloc[0].startswith("monitoring?run=r.monitor&window=")
    groups = group_frame(section, "sex", "impact_ratio")
    assert groups[(groups["group"] == "F") & groups["alert"]]["order"].min() == 5
    assert trend_frame(section, "prediction_drift_psi")["value"].notna().all()


def test_page_shows_trends_alerts_and_window_evidence(section, tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs")
    record = store.create(RunRecord(run_id="r.monitor", parent_run_id="r", monitoring=section))
    finish_stage(store, record, "monitor")
    store.create(RunRecord(run_id="other"))
    key = section.alerts[-1].window
    at = _page(monkeypatch, tmp_path / "runs", run="r.monitor", window=key)
    text = "\n".join(str(e.value) for e in [*at.error, *at.subheader]).replace("\\", "")
    assert "Status ALERT" in text and f"Window {key}" in text and "Alerts" in text
    assert monitoring_status(section).summary in text  # the counts of the report and the gate's monitoring check
    assert [s.label for s in at.selectbox][:1] == ["Monitored run"] and at.selectbox[0].options == ["r.monitor"]
    assert any((df.value.get("id") == "impact_ratio").any() for df in at.dataframe if "id" in df.value)


def test_page_without_monitored_runs_says_how(tmp_path, monkeypatch):
    RunStore(tmp_path / "runs").create(RunRecord(run_id="plain"))
    at = _page(monkeypatch, tmp_path / "runs")
    assert "govaudit monitor" in at.info[0].value


def test_trend_charts_come_from_cached_specs(section, tmp_path, monkeypatch):
    """The Monitoring page draws through dashboard.charts.draw: a rerun builds (and validates) no Altair chart."""
    from dashboard import charts

    store = RunStore(tmp_path / "runs")
    record = store.create(RunRecord(run_id="r.monitor", parent_run_id="r", monitoring=section))
    finish_stage(store, record, "monitor")
    built = []
    monkeypatch.setitem(charts._BUILDERS, "trend", lambda *a: built.append(a) or charts.trend_chart(*a))
    charts.vega_spec.clear()
    at = _page(monkeypatch, tmp_path / "runs", run="r.monitor")
    drawn = at.get("vega_lite_chart")
    assert len(drawn) == 2 and len(built) == 2
    assert all(any("alert" in json.dumps(layer.get("transform", "")) for layer in json.loads(c.proto.spec)["layer"])
               for c in drawn)
    at.run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 2 and len(built) == 2
