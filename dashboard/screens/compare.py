"""Compare page: two runs side by side (e.g. before/after mitigation): verdicts, check changes, metric deltas."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.record import CheckResult, RunRecord
from audit.record.status import check_level
from dashboard.data import load_run, open_store
from dashboard.widgets import guarded, md, run_choice, verdict_banner

__all__ = ["render", "flat_metrics", "metric_deltas", "check_changes"]


def flat_metrics(record: RunRecord) -> dict[str, float]:
    """Every headline number of a record under a readable key; sections that did not run add nothing."""
    out: dict[str, float] = {}
    if record.train is not None:
        for split, metrics in (("validation", record.train.validation), ("test", record.train.test)):
            if metrics is not None:
                out[f"train · {split} macro-F1"] = metrics.macro_f1
                out[f"train · {split} accuracy"] = metrics.accuracy
    fairness = record.fairness
    if fairness is not None:
        if fairness.overall is not None:
            out["fairness · overall accuracy"] = fairness.overall.accuracy
            out["fairness · overall macro-F1"] = fairness.overall.macro_f1
        for grouping in fairness.groupings:
            for name, est in grouping.disparities.items():
                if est.value is not None:
                    out[f"fairness · {grouping.name} · {name}"] = est.value
            for group in grouping.groups:
                if group.impact_ratio is not None and group.impact_ratio.value is not None:
                    out[f"fairness · {grouping.name} · {group.group} · impact_ratio"] = group.impact_ratio.value
                rate = group.metrics.get("selection_rate")
                if rate is not None and rate.value is not None:
                    out[f"fairness · {grouping.name} · {group.group} · selection_rate"] = rate.value
    if record.counterfactual is not None:
        for fam in [*record.counterfactual.families, *record.counterfactual.templates]:
            if fam.flip_rate.value is not None:
                out[f"counterfactual · {fam.family} · flip rate"] = fam.flip_rate.value
    if record.attribution is not None and record.attribution.reliance_share.value is not None:
        out["attribution · reliance share"] = record.attribution.reliance_share.value
    if record.scrub is not None:
        out["scrub · share of rows changed"] = record.scrub.share_rows_touched
    return out


def metric_deltas(a: RunRecord, b: RunRecord) -> pd.DataFrame:
    ma, mb = flat_metrics(a), flat_metrics(b)
    keys = list(dict.fromkeys([*ma, *mb]))
    frame = pd.DataFrame({"metric": keys, "A": [ma.get(k) for k in keys], "B": [mb.get(k) for k in keys]})
    frame["B - A"] = frame["B"] - frame["A"]
    return frame


def _check_name(check: CheckResult) -> str:
    """A check's title with its subject, e.g. 'Impact ratio (four-fifths rule) · age_group=older american'."""
    return f"{check.title} · {check.subject}" if check.subject else check.title


def check_changes(a: RunRecord, b: RunRecord) -> pd.DataFrame:
    """One row per check id in either run: its title with subject, and its level in A and in B."""
    sa = {c.id: (_check_name(c), check_level(c).replace("-", " ")) for c in (a.policy.checks if a.policy else [])}
    sb = {c.id: (_check_name(c), check_level(c).replace("-", " ")) for c in (b.policy.checks if b.policy else [])}
    rows = [{"check": (sb.get(k) or sa.get(k))[0], "id": k, "A": sa.get(k, ("", "absent"))[1],
             "B": sb.get(k, ("", "absent"))[1]} for k in dict.fromkeys([*sa, *sb])]
    frame = pd.DataFrame(rows, columns=["check", "id", "A", "B"])
    frame["changed"] = frame["A"] != frame["B"]
    return frame.sort_values("changed", ascending=False, kind="stable")


def render() -> None:
    st.title("Compare runs")
    with guarded():
        store = open_store()
        run_ids = [row["run_id"] for row in store.list()]
        if len(run_ids) < 2:
            st.info("Comparing needs at least two runs.")
            return
        cols = st.columns(2)
        with cols[0]:
            id_a = run_choice("Run A", run_ids, "a", default_index=1)
        with cols[1]:
            id_b = run_choice("Run B", run_ids, "b", default_index=0)
        a, b = load_run(store, id_a).record, load_run(store, id_b).record
        for col, record in zip(cols, (a, b)):
            with col:
                st.caption(md(f"{record.name} · created {record.created_at} · stages {', '.join(record.stages) or '-'}"))
                verdict_banner(record.policy.verdict if record.policy else None)
        va = a.policy.verdict if a.policy else "not run"
        vb = b.policy.verdict if b.policy else "not run"
        if va != vb:
            st.markdown(md(f"Verdict changed: {va} → {vb}"))
        checks = check_changes(a, b)
        if not checks.empty:
            st.subheader("Policy checks")
            st.dataframe(checks, hide_index=True, width="stretch")
        deltas = metric_deltas(a, b)
        st.subheader("Metrics")
        only_changed = st.checkbox("Only metrics that differ", value=False)
        if only_changed:
            deltas = deltas[deltas["B - A"].fillna(1.0).abs() > 1e-12]
        st.dataframe(deltas, hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format=f) for c, f in
                                    (("A", "%.3f"), ("B", "%.3f"), ("B - A", "%+.3f"))})
