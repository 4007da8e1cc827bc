"""Reviewer login: the configured user list (salted scrypt hashes) or Streamlit OIDC (`st.login`) when `[auth]` is set.

Only a name on the reviewer list can sign off; an OIDC user must also be on the list (matched by e-mail). The session
holds the reviewer's name, and every sign-off re-checks it against the list on disk. Failed log-ins lock the reviewer
name on the server (`ReviewerList.locked_until`, from the audit log), not the browser session: reloading the page
does not reset it.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from audit.record.reviewers import ReviewerList

from .widgets import md

__all__ = ["Identity", "current_identity", "login_panel", "logout_button", "oidc_configured"]

_KEY = "govaudit_reviewer"


@dataclass(frozen=True)
class Identity:
    name: str
    auth: str  # "password" or "oidc"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml
        return False


def current_identity(reviewers: ReviewerList) -> Identity | None:
    """The logged-in reviewer, or None (also when a name was removed from the list since logging in)."""
    name = st.session_state.get(_KEY)
    if name:
        reviewer = reviewers.get(name)
        if reviewer is not None and reviewer.password_hash:
            return Identity(reviewer.name, "password")
        del st.session_state[_KEY]
    if oidc_configured() and st.user.is_logged_in:
        reviewer = reviewers.by_email(st.user.get("email"))
        if reviewer is not None:
            return Identity(reviewer.name, "oidc")
    return None


def login_panel(reviewers: ReviewerList) -> None:
    """Log-in form (and SSO button when OIDC is configured); shows why a log-in failed, never whose password."""
    if oidc_configured():
        if st.user.is_logged_in:
            st.warning("You are logged in through single sign-on, but your e-mail address is not on the reviewer list.")
            st.button("Log out", on_click=st.logout)
        else:
            st.button("Log in with single sign-on", on_click=st.login)
    if not reviewers.reviewers:
        st.info("No reviewers are configured. An administrator adds one with `govaudit dashboard add-reviewer NAME`.")
        return
    with st.form("login", clear_on_submit=True):
        name = st.text_input("Reviewer name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        reviewer = reviewers.authenticate(name, password, source="dashboard")
        until = reviewers.locked_until(name)
        if reviewer is None and until is not None:
            st.error(f"Too many failed log-ins for this name: locked until {until:%H:%M:%S} UTC. "
                     "The attempts are logged.")
        elif reviewer is None:
            st.error("Log-in failed: unknown reviewer or wrong password.")
        else:
            st.session_state[_KEY] = reviewer.name
            st.rerun()


def logout_button(identity: Identity) -> None:
    st.caption(f"Signed in as {md(identity.name)} ({identity.auth})")
    if st.button("Log out"):
        st.session_state.pop(_KEY, None)
        if identity.auth == "oidc":
            st.logout()
        st.rerun()
