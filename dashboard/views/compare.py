"""compare page (logic in dashboard/screens/compare.py)."""
from dashboard.screens.compare import render

render()
