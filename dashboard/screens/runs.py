"""Runs page: every run from the index with verdict, open checks and sign-off state; filter, sort, open."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.data import SIGNOFF_STATES, open_ledger, open_store, runs_frame
from dashboard.widgets import guarded

__all__ = ["render", "filter_runs", "SORTS", "RUN_COLUMNS"]

# Verdict and sign-off right after the run id, so they stay on screen at 1440 px; long text columns last, narrow.
RUN_COLUMNS = {
    "open": st.column_config.LinkColumn("run", display_text=r"run\?run=(.*)", width="medium"),
    "verdict": st.column_config.TextColumn("verdict", width="small"),
    "signoff": st.column_config.TextColumn("sign-off", width="small"),
    "failed_checks": st.column_config.NumberColumn("open checks", help="Policy checks that failed", width="small"),
    "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm", width="small"),
    "name": st.column_config.TextColumn("name", width="medium"),
    "status": st.column_config.TextColumn("status", width="small"),
    "model": st.column_config.TextColumn("model", width="small"),
    "data": st.column_config.TextColumn("data", width="small"),
    "stages": st.column_config.TextColumn("stages", width="small"),
}
SORTS = {"newest first": ("created", False), "oldest first": ("created", True),
         "most failed checks": ("failed_checks", False), "name": ("name", True), "model": ("model", True)}


def filter_runs(frame: pd.DataFrame, text: str = "", verdicts: list[str] | None = None,
                signoffs: list[str] | None = None, statuses: list[str] | None = None,
                sort: str = "newest first") -> pd.DataFrame:
    """The rows matching every filter (empty filter = all), sorted; `text` matches id, name, model or data."""
    keep = pd.Series(True, index=frame.index)
    if text:
        needle = text.lower()
        haystack = frame[["run_id", "name", "model", "data"]].fillna("").astype(str).agg(" ".join, axis=1).str.lower()
        keep &= haystack.str.contains(needle, regex=False)
    for column, chosen in (("verdict", verdicts), ("signoff", signoffs), ("status", statuses)):
        if chosen:
            keep &= frame[column].isin(chosen)
    column, ascending = SORTS[sort]
    return frame[keep].sort_values([column, "run_id"], ascending=[ascending, False], na_position="last")


def render() -> None:
    st.title("Audit runs")
    with guarded():
        store = open_store()
        ledger = open_ledger(store)
        frame = runs_frame(store, ledger)
        if not ledger.verify().ok:
            st.error("The sign-off trail is BROKEN (the database was edited outside govaudit): no approval counts "
                     "until it is restored. Details on the Sign-off page.")
        if frame.empty:
            st.info(f"No runs in {store.root}. Run `govaudit demo` to create one.")
            return
        top = st.columns([3, 2, 2, 2, 2])
        text = top[0].text_input("Search", placeholder="run id, name, model or data")
        verdicts = top[1].multiselect("Verdict", ["pass", "warn", "fail", "not run"])
        signoffs = top[2].multiselect("Sign-off", list(SIGNOFF_STATES))
        statuses = top[3].multiselect("Status", sorted(frame["status"].dropna().unique()))
        sort = top[4].selectbox("Sort", list(SORTS))
        shown = filter_runs(frame, text, verdicts, signoffs, statuses, sort)
        st.caption(f"{len(shown)} of {len(frame)} runs")
        table = shown.assign(open=[f"run?run={run_id}" for run_id in shown["run_id"]])[list(RUN_COLUMNS)]
        st.dataframe(table, hide_index=True, width="stretch", column_config=RUN_COLUMNS)
        if not shown.empty:
            chosen = st.selectbox("Open a run", list(shown["run_id"]))
            cols = st.columns(3)
            cols[0].page_link("views/run.py", label="Evidence", query_params={"run": chosen})
            cols[1].page_link("views/signoff.py", label="Sign off", query_params={"run": chosen})
            cols[2].page_link("views/compare.py", label="Compare with previous", query_params={"a": chosen})
