"""run page (logic in dashboard/screens/run.py)."""
from dashboard.screens.run import render

render()
