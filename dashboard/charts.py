"""Altair charts and the token heat map (HTML, every word escaped)."""
from __future__ import annotations

import html

import altair as alt
import pandas as pd

__all__ = ["chart_height", "estimate_chart", "histogram_chart", "curve_chart", "token_heatmap_html"]


def estimate_chart(frame: pd.DataFrame, title: str, reference: float | None = None) -> alt.LayerChart:
    """Point per row (`label`, `value`) with CI error bars (`ci_low`, `ci_high`) and an optional vertical rule."""
    base = alt.Chart(frame).encode(y=alt.Y("label:N", sort=None, title=None))
    points = base.mark_point(filled=True, size=70).encode(
        x=alt.X("value:Q", title=title, scale=alt.Scale(zero=True)),
        color=alt.Color("flag:N", title=None, scale=alt.Scale(domain=["verdict", "small / unknown (no verdict)"],
                                                               range=["#1f4e79", "#9a9a9a"])),
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


def curve_chart(frame: pd.DataFrame) -> alt.Chart:
    long = frame.melt(id_vars="step", value_vars=[c for c in ("train_loss", "val_macro_f1") if c in frame],
                      var_name="series").dropna()
    return alt.Chart(long).mark_line(point=True).encode(x="step:Q", y=alt.Y("value:Q", title=None),
                                                        color=alt.Color("series:N", title=None)).properties(height=200)


def token_heatmap_html(words: list[str], scores: list[float]) -> str:
    """Words shaded by attribution: red pushes towards the prediction, blue away; the scale is this example's max."""
    top = max((abs(s) for s in scores), default=0.0) or 1.0
    spans = []
    for word, score in zip(words, scores):
        alpha = min(abs(score) / top, 1.0) * 0.8
        rgb = "192,57,43" if score >= 0 else "41,128,185"
        spans.append(f'<span title="{score:+.3f}" style="background:rgba({rgb},{alpha:.2f});padding:1px 3px;'
                     f'margin:1px;border-radius:3px;display:inline-block">{html.escape(str(word))}</span>')
    return '<div style="line-height:1.9;font-family:sans-serif">' + "".join(spans) + "</div>"


def marked_html(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` escaped, with the character spans (the swapped identity words) highlighted."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last or end > len(text):
            continue
        out += [html.escape(text[last:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        last = end
    out.append(html.escape(text[last:]))
    return '<div style="white-space:pre-wrap;font-family:sans-serif">' + "".join(out) + "</div>"
