"""The dashboard's server process (`govaudit dashboard` runs `python -m dashboard.serve run dashboard/app.py ...`).

Streamlit's own command line, plus one thread that imports the pages' modules (pandas, pyarrow, altair, the record
model, the report helpers) and builds one chart while the server starts, so the first visitor does not wait several
seconds for imports that every later visitor gets for free.
"""
from __future__ import annotations

import sys
import threading
import time

__all__ = ["preload", "main"]


def preload(timeout: float = 60.0) -> None:
    """Import every page's module once Streamlit's runtime exists (so their caches bind to it), then turn one small
    Altair chart into its spec (altair loads and compiles its JSON schema on the first chart)."""
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + timeout
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    import altair as alt
    import pandas as pd
    import pyarrow.parquet  # noqa: F401  (read by the run page's predictions panels)

    import dashboard.screens.compare
    import dashboard.screens.monitoring
    import dashboard.screens.run
    import dashboard.screens.runs
    import dashboard.screens.signoff  # noqa: F401

    alt.Chart(pd.DataFrame({"x": [0.0]})).mark_point().encode(x="x:Q").to_dict()


def main() -> int:
    threading.Thread(target=preload, name="govaudit-preload", daemon=True).start()
    from streamlit.web import cli

    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
