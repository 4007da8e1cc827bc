"""The dashboard's server process (`govaudit dashboard` runs `python -m dashboard.serve run dashboard/app.py ...`).

Streamlit's own command line, after two warm-ups that the first visitor would otherwise wait for (seconds that every
later visitor gets for free): importing the pages' modules (pandas, pyarrow, altair, the record model, the report
helpers) and building one chart, and starting vl-convert's JavaScript runtime (the run page's static charts). Both
run before the server listens, so they never compete with the first visitor's page for the GIL: imports and
vl-convert hold it, and a thread doing them while the server started still did when the first browser connected.
"""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

__all__ = ["preload", "warm_converter", "main"]


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def preload() -> None:
    """Import every page's module, then turn one small Altair chart into its spec (altair loads and compiles its JSON
    schema on the first chart). Safe before Streamlit's runtime exists: st.cache_data looks up its storage on each
    call, and at import only checks its settings (logging that no runtime exists yet, silenced here)."""
    import streamlit.runtime.caching.cache_data_api  # noqa: F401  (creates the logger silenced next)

    with _quiet("streamlit.runtime.caching.cache_data_api"):
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
    preload()
    from streamlit.web import cli

    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
