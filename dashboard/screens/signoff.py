"""Sign-off page: the ledger's integrity, a run's decision history, and (for a logged-in reviewer) a new decision."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.record.signoff import DECISIONS, SignoffLedger
from dashboard.auth import current_identity, login_panel, logout_button
from dashboard.data import LoadedRun, load_run, open_ledger, open_store, reviewer_list
from dashboard.widgets import choose_stored_run, guarded, md, short, verdict_banner

__all__ = ["render"]

_FLASH = "govaudit_signoff_flash"
_LABELS = {"approve": "Approve", "reject": "Reject", "request_changes": "Request changes"}


def _integrity(ledger: SignoffLedger) -> bool:
    check = ledger.verify()
    if check.ok:
        st.success(f"Sign-off trail intact: {check.entries} entries, hash chain verified (head {short(check.head)}).")
    else:
        st.error("Sign-off trail BROKEN: the chain is broken — the database was edited outside govaudit. "
                 "New decisions are refused and no approval counts until the ledger is restored.")
        for problem in check.problems:
            st.markdown(md(f"- {problem}"))
    for warning in check.warnings:
        st.caption(md(warning))
    return check.ok


def _history(ledger: SignoffLedger, loaded: LoadedRun) -> None:
    entries = ledger.history(loaded.record.run_id)
    if not entries:
        st.caption("No decisions on this run yet.")
        return
    st.dataframe(pd.DataFrame([{"#": e.seq, "time (UTC)": e.created_at, "reviewer": e.reviewer, "via": e.auth,
                                "decision": e.decision, "comment": e.comment, "evidence": short(e.record_sha256),
                                "this evidence": e.record_sha256 == loaded.subject_sha256} for e in entries]),
                 hide_index=True, width="stretch")


def render() -> None:
    st.title("Sign-off")
    if _FLASH in st.session_state:
        st.success(md(st.session_state.pop(_FLASH)))
    with guarded():
        store = open_store()
        ledger = open_ledger(store)
        intact = _integrity(ledger)
        run_id = choose_stored_run(store)
        if run_id is None:
            return
        loaded = load_run(store, run_id)
        record = loaded.record
        verdict_banner(record.policy.verdict if record.policy else None)
        st.caption(md(f"evidence SHA-256 {loaded.subject_sha256} — a decision binds to exactly this evidence"))
        approved = intact and ledger.approved(run_id, loaded.subject_sha256)
        st.markdown("**Approved for this evidence.**" if approved else "Not approved for this evidence.")
        _history(ledger, loaded)

        st.subheader("Your decision")
        reviewers = reviewer_list()
        identity = current_identity(reviewers)
        if identity is None:
            st.info("Only reviewers can sign off. Log in first.")
            login_panel(reviewers)
            return
        logout_button(identity)
        seen_key = f"govaudit_seen_{run_id}"
        seen = st.session_state.get(seen_key)
        st.session_state[seen_key] = loaded.subject_sha256
        with st.form(f"decide_{run_id}", clear_on_submit=True):
            decision = st.radio("Decision", DECISIONS, format_func=_LABELS.get, horizontal=True)
            comment = st.text_area("Comment (required)", placeholder="What you checked, and why you decided so")
            submitted = st.form_submit_button("Record decision", disabled=not intact)
        if not submitted:
            return
        if current_identity(reviewer_list()) is None:
            st.error("Refused: you are no longer on the reviewer list.")
        elif not comment.strip():
            st.error("Refused: a comment is required.")
        elif seen != loaded.subject_sha256:
            st.error("Refused: the run's evidence changed after you opened it. Review it again, then decide.")
        elif not ledger.verify().ok:
            st.error("Refused: the sign-off trail is broken.")
        else:
            entry = ledger.sign(run_id, loaded.subject_sha256, decision, comment, identity.name, identity.auth)
            st.session_state[_FLASH] = (f"Recorded: {entry.decision} by {entry.reviewer} (entry {entry.seq}, "
                                        f"hash {short(entry.entry_hash)})")
            st.rerun()
