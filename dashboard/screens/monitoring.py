"""Monitoring page: trends per metric and group over production windows, alert markers, and each alert's link to
the window's evidence (`monitoring?run=<run>&window=<key>`). Reads `record.monitoring` of `<RUN>.monitor` runs."""
from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import streamlit as st

from audit.record import MonitoringSection
from audit.record.status import monitoring_status
from dashboard.charts import draw
from dashboard.data import load_run, open_store
from dashboard.widgets import guarded, md, run_choice, section

__all__ = ["render", "alerts_frame", "trend_frame", "group_frame", "window_checks", "METRICS"]

METRICS = {"prediction_drift_psi": "prediction_drift", "score_drift_psi": "score_drift", "score_drift_ks": "score_drift",
           "text_length_drift_psi": "text_length_drift", "script_mix_drift_psi": "script_mix_drift",
           "oov_rate": "oov_rate", "pii_rate": "pii_rate", "accuracy": "accuracy_drop", "macro_f1": "accuracy_drop",
           "n": "volume"}


def _link(run_id: str, key: str) -> str:
    return f"monitoring?run={quote(run_id)}&window={quote(key)}"


def alerts_frame(section_: MonitoringSection, run_id: str) -> pd.DataFrame:
    rows = [{"evidence": _link(run_id, a.window), "window": a.window, "check": a.check, "subject": a.subject or "",
             "severity": a.severity, "active": a.active, "measured": a.measured, "threshold": a.threshold,
             "detail": a.evidence} for a in section_.alerts]
    return pd.DataFrame(rows, columns=["evidence", "window", "check", "subject", "severity", "active", "measured",
                                       "threshold", "detail"])


def _alerted(window, check: str, subject: str | None = None) -> bool:
    return any(c.id == check and c.status == "alert" and (subject is None or c.subject == subject) for c in window.checks)


def trend_frame(section_: MonitoringSection, metric: str) -> pd.DataFrame:
    check = METRICS.get(metric, metric)
    return pd.DataFrame([{"order": i, "window": w.key, "value": w.metrics.get(metric), "small": w.small,
                          "alert": _alerted(w, check)} for i, w in enumerate(section_.windows)])


def group_frame(section_: MonitoringSection, feature: str, attr: str = "selection_rate") -> pd.DataFrame:
    check = "impact_ratio" if attr == "impact_ratio" else "selection_rate_change"
    rows = []
    for i, w in enumerate(section_.windows):
        for g in w.groups:
            if g.feature == feature:
                ci = g.selection_ci if attr == "selection_rate" else g.impact_ci
                rows.append({"order": i, "window": w.key, "group": g.group, "value": getattr(g, attr), "n": g.n,
                             "small": g.small, "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                             "alert": _alerted(w, check, f"{feature}:{g.group}")})
    return pd.DataFrame(rows, columns=["order", "window", "group", "value", "n", "small", "ci_low", "ci_high", "alert"])


def window_checks(section_: MonitoringSection, key: str) -> pd.DataFrame | None:
    window = next((w for w in section_.windows if w.key == key), None)
    if window is None:
        return None
    return pd.DataFrame([c.model_dump() for c in window.checks])


def render() -> None:
    st.title("Monitoring")
    with guarded():
        store = open_store()
        monitored = [row["run_id"] for row in store.list() if "monitor" in (row.get("stages") or "").split(",")]
        if not monitored:
            st.info("No monitored runs yet: `govaudit monitor --run RUN --log LOGS...` creates RUN.monitor.")
            return
        run_id = run_choice("Monitored run", monitored, "run")
        record = load_run(store, run_id).record
        mo = record.monitoring
        if mo is None:
            st.info("This run has no monitoring section.")
            return
        ms = monitoring_status(mo)
        banner = {"pass": st.success, "warn": st.warning, "fail": st.error}[ms.level]
        banner(md(f"Status {ms.summary} of {mo.window}; monitors run {record.parent_run_id or '-'}"))
        wanted = st.query_params.get("window")
        with section("window evidence"):
            if wanted:
                checks = window_checks(mo, wanted)
                if checks is None:
                    st.warning(md(f"no window {wanted} in this run"))
                else:
                    st.subheader(md(f"Window {wanted}"))
                    window = next(w for w in mo.windows if w.key == wanted)
                    st.caption(md(f"{window.n} rows{' (small: not judged)' if window.small else ''}"))
                    st.dataframe(checks, hide_index=True, width="stretch")
                    st.dataframe(pd.DataFrame([g.model_dump() for g in window.groups]), hide_index=True, width="stretch")
        with section("alerts"):
            st.subheader("Alerts")
            frame = alerts_frame(mo, run_id)
            if frame.empty:
                st.caption("No alerts.")
            else:
                st.dataframe(frame, hide_index=True, width="stretch", column_config={
                    "evidence": st.column_config.LinkColumn("evidence", display_text=r".*window=(.*)")})
        with section("trends"):
            st.subheader("Trends")
            present = [m for m in METRICS if any(w.metrics.get(m) is not None for w in mo.windows)]
            metric = st.selectbox("Metric", present)
            if metric:
                draw("trend", trend_frame(mo, metric), width="stretch")
            features = sorted({g.feature for w in mo.windows for g in w.groups})
            if features:
                cols = st.columns(2)
                feature = cols[0].selectbox("Sensitive feature", features)
                attr = cols[1].selectbox("Group metric", ["selection_rate", "impact_ratio", "fpr", "fnr"])
                draw("trend", group_frame(mo, feature, attr), "group", width="stretch")
            st.caption("Red circles: windows where the check alerted. Small windows and groups are shown but not judged.")
