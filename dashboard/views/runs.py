"""runs page (logic in dashboard/_page_runs.py)."""
from dashboard._page_runs import render

render()
