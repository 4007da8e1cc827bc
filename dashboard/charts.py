"""Altair charts, drawn from cached Vega-Lite specs (`draw`: interactive, or as a server-rendered SVG image), and the
token heat map (HTML, every word escaped)."""
from __future__ import annotations

import base64
import html
import threading
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
import vl_convert

from audit.core.text import markdown_inline, neutralise

__all__ = ["BELOW", "EXCLUDED", "LL144", "chart_height", "estimate_chart", "histogram_chart", "curve_chart",
           "token_heatmap_html", "reliability_chart", "threshold_chart", "confusion_chart", "trend_chart", "TOWARD_RGB",
           "AGAINST_RGB", "draw", "vega_spec", "chart_svg", "static_markdown", "STATIC_WIDTH", "STATIC_ALT"]


# Point colours as the report's bars (reports/_charts.py COLORS): blue ok, red below the policy minimum, grey excluded.
BELOW, EXCLUDED = "below the policy minimum", "small / unknown (no verdict)"
LL144 = "under 2% (LL144: not the reference, no verdict)"


def estimate_chart(frame: pd.DataFrame, title: str, reference: float | None = None) -> alt.LayerChart:
    """Point per row (`label`, `value`) with CI error bars (`ci_low`, `ci_high`) and an optional vertical rule."""
    base = alt.Chart(frame).encode(y=alt.Y("label:N", sort=None, title=None))
    points = base.mark_point(filled=True, size=70).encode(
        x=alt.X("value:Q", title=title, scale=alt.Scale(zero=True)),
        color=alt.Color("flag:N", title=None, scale=alt.Scale(domain=["verdict", BELOW, EXCLUDED, LL144],
                                                               range=["#2b6cb0", "#c53030", "#a0aec0", "#2c5282"])),
        tooltip=["label", alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("ci_low:Q", format=".3f"),
                 alt.Tooltip("ci_high:Q", format=".3f"), "count:Q"])
    bars = base.mark_rule(strokeWidth=2, color="#7a7a7a").encode(x="ci_low:Q", x2="ci_high:Q")
    layers = [bars, points]
    if reference is not None:
        rule = alt.Chart(pd.DataFrame({"x": [reference]})).mark_rule(color="#c0392b", strokeDash=[6, 3]).encode(x="x:Q")
        layers.append(rule)
    return alt.layer(*layers).properties(height=chart_height(len(frame)))


def chart_height(rows: int) -> int:
    """Pixels for a chart with one row per group (pass it to st.altair_chart too)."""
    return 90 + 36 * rows


def histogram_chart(frame: pd.DataFrame, title: str) -> alt.Chart:
    return alt.Chart(frame).mark_line(interpolate="step-after").encode(
        x=alt.X("bin_start:Q", title=title, scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("share:Q", title="share of group", axis=alt.Axis(format="%")),
        color=alt.Color("group:N", title=None)).properties(height=220)


def curve_chart(frame: pd.DataFrame) -> alt.HConcatChart:
    """Training loss and validation macro-F1 by step, side by side, each on its own y axis (F1 from 0 to 1)."""
    panels = []
    for column, title, domain in (("train_loss", "training loss", None), ("val_macro_f1", "validation macro-F1", [0, 1])):
        if column not in frame:
            continue
        scale = alt.Scale(domain=domain) if domain else alt.Scale(zero=True)
        panels.append(alt.Chart(frame.dropna(subset=[column])).mark_line(point=True).encode(
            x=alt.X("step:Q", title="training step"), y=alt.Y(f"{column}:Q", title=title, scale=scale),
            tooltip=["step", alt.Tooltip(f"{column}:Q", format=".3f")]).properties(height=200, width=300))
    return alt.hconcat(*panels)


def reliability_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Observed accuracy against mean confidence per bin (point size = rows), with the diagonal of perfect calibration."""
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        color="#718096", strokeDash=[4, 3]).encode(x="x:Q", y="y:Q")
    points = alt.Chart(frame).mark_line(point=True, color="#2b6cb0").encode(
        x=alt.X("confidence:Q", title="mean top-class probability in bin", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("accuracy:Q", title="observed accuracy", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("bin_start:Q", format=".2f"), alt.Tooltip("bin_end:Q", format=".2f"),
                 alt.Tooltip("confidence:Q", format=".3f"), alt.Tooltip("accuracy:Q", format=".3f"), "rows:Q"])
    return alt.layer(diagonal, points).properties(height=280)


def threshold_chart(frame: pd.DataFrame, chosen: float, minimum: float) -> alt.LayerChart:
    """Impact ratio of each group as the decision threshold moves; dashed: the policy minimum; grey rule: chosen t."""
    lines = alt.Chart(frame.dropna(subset=["impact_ratio"])).mark_line().encode(
        x=alt.X("threshold:Q", title="decision threshold on P(favorable)"),
        y=alt.Y("impact_ratio:Q", title="impact ratio", scale=alt.Scale(domain=[0, 1.05], clamp=True)),
        color=alt.Color("group:N", title=None), strokeDash=alt.StrokeDash("small:N", title="small group"),
        tooltip=["group", alt.Tooltip("threshold:Q", format=".2f"), alt.Tooltip("selection_rate:Q", format=".3f"),
                 alt.Tooltip("impact_ratio:Q", format=".3f"), "n:Q"])
    rules = pd.DataFrame({"x": [chosen], "y": [minimum]})
    vertical = alt.Chart(rules).mark_rule(color="#4a5568").encode(x="x:Q")
    horizontal = alt.Chart(rules).mark_rule(color="#c53030", strokeDash=[6, 3]).encode(y="y:Q")
    return alt.layer(lines, vertical, horizontal).properties(height=280)


def confusion_chart(frame: pd.DataFrame) -> alt.FacetChart:
    """One confusion matrix per group: cell colour = share of the true-label row, text = count."""
    base = alt.Chart(frame).encode(x=alt.X("predicted:N", title="predicted"), y=alt.Y("true:N", title="true"))
    cells = base.mark_rect().encode(color=alt.Color("share of true:Q", scale=alt.Scale(domain=[0, 1], scheme="blues"),
                                                    legend=alt.Legend(format="%")))
    text = base.mark_text(fontSize=12).encode(text="count:Q", color=alt.condition(
        "datum['share of true'] > 0.6", alt.value("white"), alt.value("#1a202c")))
    return alt.layer(cells, text).properties(width=160, height=120).facet(facet=alt.Facet("group:N", title=None),
                                                                          columns=4)


def trend_chart(frame: pd.DataFrame, color: str | None = None) -> alt.LayerChart:
    """Monitoring: `value` per `window` (one line per `color` value), windows whose check alerted circled in red."""
    base = alt.Chart(frame.dropna(subset=["value"])).encode(x=alt.X("window:N", sort=None, title=None),
                                                            y=alt.Y("value:Q", title=None))
    line = base.mark_line(point=True).encode(**({"color": alt.Color(f"{color}:N", title=None)} if color else {}))
    marks = base.transform_filter(alt.datum.alert).mark_point(size=160, shape="circle", color="#c0392b", strokeWidth=3)
    return alt.layer(line, marks).properties(height=240)


# Report colours (reports/templates/report.css, tp*/tn*): blue pushes toward the predicted class, red against it.
TOWARD_RGB, AGAINST_RGB = "41,128,185", "192,57,43"


def token_heatmap_html(words: list[str], scores: list[float]) -> str:
    """Words shaded by attribution, as in the report: blue pushes towards the prediction, red against it; the scale
    is this example's largest absolute score."""
    top = max((abs(s) for s in scores), default=0.0) or 1.0
    spans = []
    for word, score in zip(words, scores):
        alpha = min(abs(score) / top, 1.0) * 0.8
        rgb = TOWARD_RGB if score >= 0 else AGAINST_RGB
        spans.append(f'<span title="{score:+.3f}" style="background:rgba({rgb},{alpha:.2f});padding:1px 3px;'
                     f'margin:1px;border-radius:3px;display:inline-block">{html.escape(neutralise(word))}</span>')
    return '<div style="line-height:1.9;font-family:sans-serif">' + "".join(spans) + "</div>"


def marked_html(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` escaped (bidi / invisible controls shown as escapes), with the character spans (the swapped identity
    words) highlighted."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last or end > len(text):
            continue
        out += [html.escape(neutralise(text[last:start])), f"<mark>{html.escape(neutralise(text[start:end]))}</mark>"]
        last = end
    out.append(html.escape(neutralise(text[last:])))
    return '<div style="white-space:pre-wrap;font-family:sans-serif">' + "".join(out) + "</div>"


_BUILDERS = {"estimate": estimate_chart, "histogram": histogram_chart, "curve": curve_chart,
             "reliability": reliability_chart, "threshold": threshold_chart, "confusion": confusion_chart,
             "trend": trend_chart}
_THEME_LOCK = threading.Lock()


@st.cache_data(show_spinner=False, max_entries=512)
def vega_spec(kind: str, frame: pd.DataFrame, args: tuple[Any, ...] = ()) -> dict[str, Any]:
    """The Vega-Lite spec (data inline) of chart `kind` (a key of _BUILDERS) over `frame`, cached by the frame's content
    and `args`: building an Altair chart validates it against the Vega-Lite JSON schema, 0.1-0.4 s a chart on every
    rerun of the page otherwise. Built under Altair's "none" theme, as st.altair_chart does."""
    with _THEME_LOCK, alt.theme.enable("none"):
        return _BUILDERS[kind](frame, *args).to_dict()


STATIC_WIDTH = 1000  # px of a static chart, axes and legend included: about the main column at 1440 px
STATIC_ALT = "Chart: "  # every static chart's alt text starts with this (the browser tests and the bench find it)
# Text sizes and tick spacing close to Streamlit's chart theme, which the browser adds to interactive charts only.
_STATIC_CONFIG = {"font": "sans-serif", "axis": {"labelFontSize": 12, "titleFontSize": 13, "tickCount": 12,
                                                 "labelColor": "#31333f", "titleColor": "#31333f",
                                                 "gridColor": "#e6eaf1", "domainColor": "#a3a8b8"},
                  "legend": {"labelFontSize": 12, "titleFontSize": 13, "labelLimit": 0, "symbolSize": 80},
                  "view": {"stroke": None}}


@st.cache_data(show_spinner=False, max_entries=256)
def chart_svg(kind: str, frame: pd.DataFrame, args: tuple[Any, ...] = (), width: int = STATIC_WIDTH) -> str:
    """The same Vega-Lite spec as the interactive chart (vega_spec), rendered to SVG on the server by vl-convert
    (Vega and Vega-Lite in an embedded JavaScript runtime: no browser, nothing downloaded), fitted into `width` px as
    st.vega_lite_chart fits a single or layered chart into its column, with text sizes close to Streamlit's chart
    theme (_STATIC_CONFIG; the spec's own config wins); cached like the spec. vl-convert holds the
    GIL while it renders (0.1-0.3 s a chart, once per chart data)."""
    spec = vega_spec(kind, frame, args)
    return vl_convert.vegalite_to_svg({**spec, "width": width, "autosize": {"type": "fit", "contains": "padding"},
                                       "config": {**_STATIC_CONFIG, **spec.get("config", {})}})


def static_markdown(svg: str, alt: str) -> str:
    """Markdown of an image of `svg` (a data URI) with alt text STATIC_ALT + `alt`, escaped (markdown_inline)."""
    data = base64.b64encode(svg.encode()).decode("ascii")
    return f"![{markdown_inline(STATIC_ALT + alt)}](data:image/svg+xml;base64,{data})"


def draw(kind: str, frame: pd.DataFrame, *args: Any, static: str | None = None, **options: Any) -> None:
    """Show chart `kind` (see vega_spec) with st.vega_lite_chart; `options` are its width / height. With `static`
    (what the chart shows, for its alt text), show it instead as a server-rendered SVG image (chart_svg) in Markdown:
    the browser needs no Vega code and no other element's code to draw it (Markdown's is loaded for the verdict),
    and an <img> runs no script whatever the data's text."""
    if static is None:
        st.vega_lite_chart(spec=vega_spec(kind, frame, args), **options)
    else:
        st.markdown(static_markdown(chart_svg(kind, frame, args), static))
