"""The dashboard's server process (`govaudit dashboard` runs `python -m dashboard.serve run dashboard/app.py ...`).

Streamlit's own command line, plus one thread that imports the pages' modules (pandas, pyarrow, altair, the record
model, the report helpers) and builds one chart while the server starts, so the first visitor does not wait several
seconds for imports that every later visitor gets for free. Before the server starts listening, vl-convert's
JavaScript runtime (the run page's static charts) is started: it holds the GIL for about 2 s, which would otherwise
stall the server while the first visitor's browser loads the page.
"""
from __future__ import annotations

import sys
import threading
import time

__all__ = ["preload", "warm_converter", "main"]


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


def warm_converter() -> None:
    """Start vl-convert's JavaScript runtime and render one small chart shaped like the run page's first one (points
    with a colour legend, interval rules, a dashed reference rule, a step line), so its code is compiled before the
    first visitor's chart. Imported here, not through dashboard.charts, whose caches must bind to the Streamlit
    runtime that does not exist yet."""
    import vl_convert

    rows = [{"label": "a", "value": 0.7, "low": 0.6, "high": 0.8, "flag": "x"},
            {"label": "b", "value": 0.9, "low": 0.8, "high": 1.0, "flag": "y"}]
    x = {"field": "value", "type": "quantitative"}
    y = {"field": "label", "type": "nominal"}
    vl_convert.vegalite_to_svg({
        "data": {"values": rows}, "width": 300, "autosize": {"type": "fit", "contains": "padding"},
        "layer": [{"mark": "rule", "encoding": {"x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"},
                                                 "y": y}},
                  {"mark": {"type": "point", "filled": True},
                   "encoding": {"x": x, "y": y, "color": {"field": "flag", "type": "nominal"}}},
                  {"mark": {"type": "rule", "strokeDash": [6, 3]}, "encoding": {"x": {"datum": 0.8}}},
                  {"mark": {"type": "line", "interpolate": "step-after"}, "encoding": {"x": x, "y": {
                      "field": "high", "type": "quantitative", "axis": {"format": "%"}}}}]})


def main() -> int:
    warm_converter()
    threading.Thread(target=preload, name="govaudit-preload", daemon=True).start()
    from streamlit.web import cli

    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
