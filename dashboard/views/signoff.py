"""signoff page (logic in dashboard/screens/signoff.py)."""
from dashboard.screens.signoff import render

render()
