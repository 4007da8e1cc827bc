"""Sign-off page: the ledger's integrity, a run's decision history, and (for a logged-in reviewer) a new decision.

The decision goes through `SignoffLedger.decide`, the same rules as `govaudit signoff`: the run's owner cannot approve,
and approving a run with failed blocking checks needs a reason for each (a recorded risk acceptance). On a FAIL run no
decision is preselected. A `?run=` that names no run is an error, never another run's form.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.core.errors import BadInputError
from audit.record.signoff import DECISIONS, Approval, LedgerCheck, SignoffLedger, blocking_failures, run_owner
from dashboard.auth import current_identity, login_panel, logout_button
from dashboard.data import LoadedRun, load_run, open_ledger, open_store, reviewer_list
from dashboard.widgets import choose_stored_run, guarded, md, short, verdict_banner

__all__ = ["render"]

_FLASH = "govaudit_signoff_flash"
_LABELS = {"approve": "Approve", "reject": "Reject", "request_changes": "Request changes"}


def _integrity(check: LedgerCheck) -> bool:
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
                                "decision": e.decision, "comment": md(e.comment), "evidence": short(e.record_sha256),
                                "this evidence": e.record_sha256 == loaded.subject_sha256,
                                "risks accepted": md("; ".join(f"{k}: {v}" for k, v in e.acknowledgements.items()))}
                               for e in entries]), hide_index=True, width="stretch")


def _unknown_run(store) -> bool:
    """True (and said so) when the URL names a run that is not in the store."""
    wanted = st.query_params.get("run")
    if wanted is None:
        return False
    try:
        known = store.exists(wanted)
    except BadInputError:
        known = False
    if not known:
        st.error(md(f"No run {wanted!r} in the run store: nothing to sign off. Check the run id "
                    "(see the Runs page); no other run's form is shown."))
    return not known


def _state(approval: Approval) -> None:
    if approval.ok:
        st.markdown("**Approved for this evidence.**")
    else:
        st.markdown("Not approved for this evidence.")
    st.caption(md(approval.reason))


def render() -> None:
    st.title("Sign-off")
    if _FLASH in st.session_state:
        st.success(md(st.session_state.pop(_FLASH)))
    with guarded():
        store = open_store()
        ledger = open_ledger(store)
        check = ledger.verify()
        intact = _integrity(check)
        if _unknown_run(store):
            return
        run_id = choose_stored_run(store)
        if run_id is None:
            return
        loaded = load_run(store, run_id)
        record = loaded.record
        verdict = record.policy.verdict if record.policy else None
        failed = blocking_failures(record)
        verdict_banner(verdict, len(failed))
        st.caption(md(f"evidence SHA-256 {loaded.subject_sha256} — a decision binds to exactly this evidence"))
        _state(ledger.approval(run_id, loaded.subject_sha256, owner=run_owner(record), check=check))
        _history(ledger, loaded)
        if failed:
            st.markdown("**Failed blocking checks** (an approval must accept each with a reason):")
            titles = {c.id: c for c in record.policy.checks}
            for check_id in failed:
                st.markdown(md(f"- {check_id}: {titles[check_id].evidence}"))

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
            decision = st.radio("Decision", DECISIONS, format_func=_LABELS.get, horizontal=True,
                                index=None if verdict == "fail" else 0)
            comment = st.text_area("Comment (required)", placeholder="What you checked, and why you decided so")
            reasons = {c: st.text_input(f"Risk acceptance for {c} (required to approve)", key=f"ack_{run_id}_{c}")
                       for c in failed}
            submitted = st.form_submit_button("Record decision", disabled=not intact)
        if not submitted:
            return
        current = current_identity(reviewer_list())
        if current is None:
            st.error("Refused: you are no longer on the reviewer list.")
        elif decision is None:
            st.error("Refused: choose a decision.")
        elif not comment.strip():
            st.error("Refused: a comment is required.")
        elif seen != loaded.subject_sha256:
            st.error("Refused: the run's evidence changed after you opened it. Review it again, then decide.")
        else:
            email = reviewers.get(current.name).email if reviewers.get(current.name) else None
            try:
                entry = ledger.decide(record, decision, comment, current.name, current.auth, acknowledged=reasons,
                                      reviewer_email=email)
            except BadInputError as err:
                st.error(md(f"Refused: {err.message}"))
                return
            st.session_state[_FLASH] = (f"Recorded: {entry.decision} by {entry.reviewer} (entry {entry.seq}, "
                                        f"hash {short(entry.entry_hash)})")
            st.rerun()
