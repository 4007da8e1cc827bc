"""signoff page (logic in dashboard/_page_signoff.py)."""
from dashboard._page_signoff import render

render()
