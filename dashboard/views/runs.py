"""runs page (logic in dashboard/screens/runs.py)."""
from dashboard.screens.runs import render

render()
