"""run page (logic in dashboard/_page_run.py)."""
from dashboard._page_run import render

render()
