"""compare page (logic in dashboard/_page_compare.py)."""
from dashboard._page_compare import render

render()
