"""monitoring page (logic in dashboard/screens/monitoring.py)."""
from dashboard.screens.monitoring import render

render()
