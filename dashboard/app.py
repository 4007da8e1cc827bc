"""govaudit review dashboard (Streamlit entry point): `govaudit dashboard` runs `streamlit run` on this file.

Settings come from the environment that `govaudit dashboard` sets: GOVAUDIT_RUNS_ROOT, GOVAUDIT_DB_URL,
GOVAUDIT_REVIEWERS.
"""
import streamlit as st

st.set_page_config(page_title="govaudit review", page_icon="⚖️", layout="wide")
st.navigation([
    st.Page("views/runs.py", title="Runs", icon="📋", url_path="runs", default=True),
    st.Page("views/run.py", title="Run evidence", icon="🔎", url_path="run"),
    st.Page("views/compare.py", title="Compare", icon="↔️", url_path="compare"),
    st.Page("views/signoff.py", title="Sign-off", icon="✍️", url_path="signoff"),
    st.Page("views/monitoring.py", title="Monitoring", icon="📈", url_path="monitoring"),
]).run()
