"""Inline SVG charts built in code. Every data string goes through markupsafe (Markup.format escapes its arguments);
numbers are formatted floats. No scripts, no external references, readable in print."""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup

__all__ = ["Bar", "interval_chart", "curve_chart", "token_classes"]

COLORS = {"ok": "#2b6cb0", "bad": "#c53030", "small": "#a0aec0", "ref": "#2f855a", "undefined": "#a0aec0"}
_LABEL_CHARS = 48


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    state: str = "ok"  # ok, bad, small or ref


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _axis_max(bars: list[Bar], floor: float) -> float:
    top = max([floor, *(b.high for b in bars if b.high is not None), *(b.value for b in bars if b.value is not None)])
    return math.ceil(top * 4 - 1e-9) / 4


def interval_chart(bars: list[Bar], *, title: str, axis_label: str, threshold: float | None = None,
                   threshold_label: str = "", floor: float = 1.0) -> Markup:
    """Horizontal bars with confidence-interval whiskers and an optional dashed threshold line."""
    label_w, plot_w, right, row_h, top, bottom = 330.0, 400.0, 70.0, 26.0, 22.0, 40.0
    width, height = label_w + plot_w + right, top + row_h * max(len(bars), 1) + bottom
    xmax = _axis_max(bars, floor)
    step = 0.25 if xmax <= 2 else 0.5

    def x(v: float) -> float:
        return label_w + plot_w * min(max(v, 0.0), xmax) / xmax

    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {:.0f} {:.0f}" '
                    'width="{:.0f}" height="{:.0f}" font-family="sans-serif" font-size="12">').format(width, height, width, height),
             Markup("<title>{}</title>").format(title)]
    base_y = top + row_h * max(len(bars), 1)
    for i in range(int(round(xmax / step)) + 1):
        tick = i * step
        parts.append(Markup('<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="#e2e8f0"/>'
                            '<text x="{0:.1f}" y="{3:.1f}" text-anchor="middle" fill="#4a5568">{4:.2f}</text>')
                     .format(x(tick), top, base_y, base_y + 14, tick))
    parts.append(Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="middle" fill="#2d3748">{}</text>')
                 .format(label_w + plot_w / 2, base_y + 32, axis_label))
    for i, bar in enumerate(bars):
        y = top + row_h * i
        mid = y + row_h / 2
        color = COLORS.get(bar.state, COLORS["ok"])
        parts.append(Markup('<g><title>{}</title><text x="{:.1f}" y="{:.1f}" text-anchor="end" fill="#1a202c">{}</text>')
                     .format(bar.label, label_w - 8, mid + 4, _short(bar.label)))
        if bar.value is None:
            parts.append(Markup('<text x="{:.1f}" y="{:.1f}" fill="#718096">undefined</text></g>').format(label_w + 4, mid + 4))
            continue
        dash = Markup(' stroke="#718096" stroke-dasharray="3 2" fill-opacity="0.5"') if bar.state == "small" else Markup("")
        parts.append(Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="14" fill="{}"{}/>')
                     .format(label_w, mid - 7, max(x(bar.value) - label_w, 0.5), color, dash))
        if bar.low is not None and bar.high is not None:
            lo, hi = x(bar.low), x(bar.high)
            parts.append(Markup('<path d="M{0:.1f} {1:.1f}H{2:.1f}M{0:.1f} {3:.1f}V{4:.1f}M{2:.1f} {3:.1f}V{4:.1f}" '
                                'stroke="#1a202c" stroke-width="1.5" fill="none"/>')
                         .format(lo, mid, hi, mid - 6, mid + 6))
        text_x = x(max(bar.value, bar.high if bar.high is not None else bar.value)) + 6
        parts.append(Markup('<text x="{:.1f}" y="{:.1f}" fill="#1a202c">{:.3f}</text></g>').format(text_x, mid + 4, bar.value))
    if threshold is not None:
        tx = x(threshold)
        parts.append(Markup('<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="#c53030" '
                            'stroke-width="1.5" stroke-dasharray="6 4"/><text x="{3:.1f}" y="{4:.1f}" fill="#c53030">{5}</text>')
                     .format(tx, top - 4, base_y, tx + 4, top - 8, threshold_label))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def curve_chart(points: list[tuple[float, float | None, float | None]], *, title: str) -> Markup:
    """Training curves: (step, train_loss, val_macro_f1) as two polylines on one 0..max axis."""
    width, height, left, top, plot_w, plot_h = 520.0, 220.0, 40.0, 10.0, 460.0, 170.0
    steps = [p[0] for p in points] or [0.0]
    values = [v for p in points for v in p[1:] if v is not None]
    ymax = max([1.0, *values])
    smin, smax = min(steps), max(steps)

    def xy(step: float, value: float) -> str:
        sx = left + (plot_w * (step - smin) / (smax - smin) if smax > smin else plot_w / 2)
        return f"{sx:.1f},{top + plot_h * (1 - value / ymax):.1f}"

    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {:.0f} {:.0f}" '
                    'width="{:.0f}" height="{:.0f}" font-family="sans-serif" font-size="11">').format(width, height, width, height),
             Markup("<title>{}</title>").format(title),
             Markup('<path d="M{0:.0f} {1:.0f}V{2:.0f}H{3:.0f}" stroke="#4a5568" fill="none"/>')
             .format(left, top, top + plot_h, left + plot_w),
             Markup('<text x="{:.0f}" y="{:.0f}" text-anchor="end">{:.2f}</text><text x="{:.0f}" y="{:.0f}" text-anchor="end">0</text>')
             .format(left - 4, top + 8, ymax, left - 4, top + plot_h)]
    for index, (name, color) in enumerate((("train loss", "#c05621"), ("validation macro-F1", "#2b6cb0"))):
        coords = " ".join(xy(p[0], p[index + 1]) for p in points if p[index + 1] is not None)
        if coords:
            parts.append(Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>').format(coords, color))
        parts.append(Markup('<text x="{:.0f}" y="{:.0f}" fill="{}">{}</text>')
                     .format(left + 10 + 170 * index, top + plot_h + 28, color, name))
    parts.append(Markup('<text x="{:.0f}" y="{:.0f}" text-anchor="end">step {:.0f}</text></svg>')
                 .format(left + plot_w, top + plot_h + 14, smax))
    return Markup("").join(parts)


def token_classes(scores: list[float], levels: int = 5) -> list[str]:
    """CSS class per token: tp1..tp5 (pushes toward the prediction), tn1..tn5 (against), t0 (neutral)."""
    finite = [abs(s) for s in scores if isinstance(s, (int, float)) and math.isfinite(s)]
    scale = max(finite, default=0.0)
    classes = []
    for score in scores:
        if not scale or not isinstance(score, (int, float)) or not math.isfinite(score) or score == 0:
            classes.append("t0")
            continue
        level = min(levels, max(1, math.ceil(abs(score) / scale * levels)))
        classes.append(f"{'tp' if score > 0 else 'tn'}{level}")
    return classes
