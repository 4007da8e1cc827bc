"""The run page's first chart: a server-rendered SVG image of the same Vega-Lite chart (no Vega code needed in the
browser for the first view), the interactive chart one toggle away, data text escaped inside the SVG."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from record_factory import make_hostile_record, make_record
from streamlit.testing.v1 import AppTest

from audit.record.store import RunStore
from dashboard.charts import STATIC_ALT

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TOGGLE = "Interactive charts (tooltips, zoom)"


@pytest.fixture
def store(tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs")
    store.create(make_record("run-before"))
    store.create(make_hostile_record("run-hostile"))
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(store.root))
    return store


def _run_page(run_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/run.py")
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _svgs(at: AppTest) -> list[tuple[str, str]]:
    """(alt text, SVG source) of every static chart on the page: a Markdown image of a data URI."""
    out = []
    for element in at.markdown:
        found = re.fullmatch(r"!\[(.*)\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", element.value, re.DOTALL)
        if found:
            out.append((found[1].replace("\\", ""), base64.b64decode(found[2]).decode()))
    return out


def test_first_chart_is_an_image_of_the_chart_and_the_interactive_one_is_a_toggle_away(store):
    at = _run_page("run-before")
    [(alt, svg)] = _svgs(at)
    assert alt == f"{STATIC_ALT}impact_ratio by group of age_group"
    root = ElementTree.fromstring(svg)  # well-formed SVG, sized like a chart
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and float(root.get("width")) > 300
    words = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"not older", "older american", "unknown", "impact_ratio"} <= words
    assert 'stroke-dasharray="6,3"' in svg  # the policy-minimum rule of the same spec
    assert not at.get("vega_lite_chart")  # the first view needs no Vega code
    toggle = next(t for t in at.toggle if t.label == TOGGLE)
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception and _svgs(at) == []
    [chart] = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert len(spec["layer"]) == 3 and spec["layer"][1]["encoding"]["x"]["title"] == "impact_ratio"


def test_group_names_are_escaped_inside_the_svg(store):
    at = _run_page("run-hostile")
    [(alt, svg)] = _svgs(at)
    assert alt.startswith(STATIC_ALT)
    root = ElementTree.fromstring(svg)
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] in {"script", "img", "a", "style", "foreignObject"}]
    assert not [name for e in root.iter() for name in e.attrib if name.lower().startswith("on")]
    assert "&lt;script&gt;" in svg and not re.search(r"<script|<img|<svg onload", svg.replace("<svg xmlns", ""))


def test_the_browser_selector_matches_the_static_charts_alt_text():
    from cdp import CHARTS_JS

    assert f'img[alt^="{STATIC_ALT}"]' in CHARTS_JS and "stVegaLiteChart] canvas" in CHARTS_JS
    assert "stMarkdownContainer" in CHARTS_JS
