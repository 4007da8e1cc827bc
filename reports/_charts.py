"""Inline SVG charts built in code. Every data string goes through markupsafe (Markup.format escapes its arguments);
numbers are formatted floats. No scripts, no external references, readable in print."""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from markupsafe import Markup

__all__ = ["Bar", "interval_chart", "curve_chart", "token_classes", "nice_step"]

COLORS = {"ok": "#2b6cb0", "bad": "#c53030", "small": "#a0aec0", "ref": "#2f855a", "undefined": "#a0aec0"}
_LABEL_CHARS = 48
_WRAP_CHARS = 26
TICK_SPACING = 40.0


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    state: str = "ok"  # ok, bad, small or ref


def _short(label: str, limit: int = _LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


_NICE_STEPS = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)
MAX_TICKS = 8


def nice_step(span: float, max_ticks: int = MAX_TICKS) -> float:
    """The smallest round tick step giving at most `max_ticks` intervals over `span` (so labels never collide)."""
    return next((s for s in _NICE_STEPS if span / s <= max_ticks + 1e-9), _NICE_STEPS[-1] * math.ceil(span / 100))


def _axis_max(bars: list[Bar], floor: float) -> float:
    """Axis end from the bars that get a verdict; small/excluded groups are clipped (their numbers stay printed)."""
    judged = [b for b in bars if b.state != "small"] or bars
    top = max([floor, *(b.high for b in judged if b.high is not None), *(b.value for b in judged if b.value is not None)])
    step = nice_step(top)
    return math.ceil(top / step - 1e-9) * step


def _label_lines(label: str, width: int = _WRAP_CHARS) -> list[str]:
    """At most two lines of a bar label (wrapped at spaces; an over-long second line ends with '…')."""
    lines = textwrap.wrap(label, width) or [""]
    if len(lines) > 2:
        lines = [lines[0], _short(" ".join(lines[1:]), width)]
    return [_short(line, width) for line in lines]


def interval_chart(bars: list[Bar], *, title: str, axis_label: str, threshold: float | None = None,
                   threshold_label: str = "", floor: float = 1.0) -> Markup:
    """Horizontal bars with confidence-interval whiskers and an optional dashed threshold line. Sized to sit two
    side by side on an A4 page at 9 px type; at most one tick label per 40 px so labels never overlap."""
    label_w, plot_w, right, row_h, top, bottom = 140.0, 170.0, 48.0, 30.0, 22.0, 40.0
    width, height = label_w + plot_w + right, top + row_h * max(len(bars), 1) + bottom
    xmax = _axis_max(bars, floor)
    step = nice_step(xmax, int(plot_w // TICK_SPACING))

    def x(v: float) -> float:
        return label_w + plot_w * min(max(v, 0.0), xmax) / xmax

    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {:.0f} {:.0f}" '
                    'width="{:.0f}" height="{:.0f}" font-family="sans-serif" font-size="9">').format(width, height, width, height),
             Markup("<title>{}</title>").format(title)]
    base_y = top + row_h * max(len(bars), 1)
    for i in range(int(round(xmax / step)) + 1):
        tick = i * step
        parts.append(Markup('<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="#e2e8f0"/>'
                            '<text class="tick" x="{0:.1f}" y="{3:.1f}" text-anchor="middle" fill="#4a5568">{4:.2f}</text>')
                     .format(x(tick), top, base_y, base_y + 12, tick))
    parts.append(Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="middle" fill="#2d3748">{}</text>')
                 .format((label_w + plot_w + right) / 2, base_y + 28, axis_label))
    for i, bar in enumerate(bars):
        y = top + row_h * i
        mid = y + row_h / 2
        color = COLORS.get(bar.state, COLORS["ok"])
        lines = _label_lines(bar.label)
        first = mid + 3 - 5.5 * (len(lines) - 1)
        parts.append(Markup('<g><title>{}</title>').format(bar.label))
        parts += [Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="end" fill="#1a202c">{}</text>')
                  .format(label_w - 6, first + 11 * k, line) for k, line in enumerate(lines)]
        if bar.value is None:
            parts.append(Markup('<text x="{:.1f}" y="{:.1f}" fill="#718096">undefined</text></g>').format(label_w + 4, mid + 4))
            continue
        dash = Markup(' stroke="#718096" stroke-dasharray="3 2" fill-opacity="0.5"') if bar.state == "small" else Markup("")
        parts.append(Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="12" fill="{}"{}/>')
                     .format(label_w, mid - 6, max(x(bar.value) - label_w, 0.5), color, dash))
        if bar.low is not None and bar.high is not None:
            lo, hi = x(bar.low), x(bar.high)
            parts.append(Markup('<path d="M{0:.1f} {1:.1f}H{2:.1f}M{0:.1f} {3:.1f}V{4:.1f}M{2:.1f} {3:.1f}V{4:.1f}" '
                                'stroke="#1a202c" stroke-width="1.5" fill="none"/>')
                         .format(lo, mid, hi, mid - 6, mid + 6))
        clipped = max(bar.value, bar.high if bar.high is not None else bar.value) > xmax
        text_x = x(max(bar.value, bar.high if bar.high is not None else bar.value)) + 4
        parts.append(Markup('<text x="{:.1f}" y="{:.1f}" fill="#1a202c">{}{:.3f}</text></g>')
                     .format(text_x, mid + 4, "▸ " if clipped else "", bar.value))
    if threshold is not None:
        tx = x(threshold)
        parts.append(Markup('<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="#c53030" '
                            'stroke-width="1.5" stroke-dasharray="6 4"/><text x="{3:.1f}" y="{4:.1f}" fill="#c53030">{5}</text>')
                     .format(tx, top - 4, base_y, tx + 4, top - 8, threshold_label))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _panel(points: list[tuple[float, float]], *, left: float, name: str, color: str, ymax: float, xrange: tuple[float, float],
           plot: tuple[float, float, float]) -> list[Markup]:
    """One line panel with its own y axis (0..ymax, round ticks), x ticks at the recorded steps and point markers."""
    top, plot_w, plot_h = plot
    smin, smax = xrange
    step = nice_step(ymax, 5)

    def sx(v: float) -> float:
        return left + (plot_w * (v - smin) / (smax - smin) if smax > smin else plot_w / 2)

    def sy(v: float) -> float:
        return top + plot_h * (1 - min(max(v, 0.0), ymax) / ymax)

    parts = [Markup('<text x="{:.0f}" y="{:.0f}" fill="{}" font-weight="bold">{}</text>').format(left, top - 6, color, name)]
    for i in range(int(round(ymax / step)) + 1):
        tick = i * step
        parts.append(Markup('<line x1="{0:.1f}" x2="{1:.1f}" y1="{2:.1f}" y2="{2:.1f}" stroke="#e2e8f0"/>'
                            '<text x="{3:.1f}" y="{4:.1f}" text-anchor="end" fill="#4a5568">{5:.2f}</text>')
                     .format(left, left + plot_w, sy(tick), left - 4, sy(tick) + 4, tick))
    steps = sorted({p[0] for p in points})
    stride = max(1, math.ceil(len(steps) / 6))
    for value in steps[::stride] + ([steps[-1]] if (len(steps) - 1) % stride else []):
        parts.append(Markup('<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="#4a5568"/>'
                            '<text x="{0:.1f}" y="{3:.1f}" text-anchor="middle" fill="#4a5568">{4:.0f}</text>')
                     .format(sx(value), top + plot_h, top + plot_h + 4, top + plot_h + 16, value))
    parts.append(Markup('<path d="M{0:.0f} {1:.0f}V{2:.0f}H{3:.0f}" stroke="#4a5568" fill="none"/>')
                 .format(left, top, top + plot_h, left + plot_w))
    parts.append(Markup('<text x="{:.0f}" y="{:.0f}" text-anchor="middle" fill="#2d3748">training step</text>')
                 .format(left + plot_w / 2, top + plot_h + 32))
    if points:
        coords = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in points)
        parts.append(Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>').format(coords, color))
        for a, b in points:
            parts.append(Markup('<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"><title>step {:.0f}: {:.3f}</title></circle>')
                         .format(sx(a), sy(b), color, a, b))
    else:
        parts.append(Markup('<text x="{:.0f}" y="{:.0f}" fill="#718096">not recorded</text>').format(left + 10, top + plot_h / 2))
    return parts


def curve_chart(points: list[tuple[float, float | None, float | None]], *, title: str) -> Markup:
    """Training curves: training loss and validation macro-F1 by step, each on its own y axis (loss from 0 to its
    maximum, F1 from 0 to 1), x ticks at the recorded steps."""
    width, height, plot = 760.0, 230.0, (22.0, 300.0, 160.0)
    steps = [p[0] for p in points] or [0.0]
    xrange = (min(steps), max(steps))
    loss = [(p[0], p[1]) for p in points if p[1] is not None]
    f1 = [(p[0], p[2]) for p in points if p[2] is not None]
    loss_max = max([v for _, v in loss], default=1.0) or 1.0
    loss_top = math.ceil(loss_max / nice_step(loss_max, 5) - 1e-9) * nice_step(loss_max, 5)
    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="chart curves" role="img" viewBox="0 0 {:.0f} {:.0f}" '
                    'width="{:.0f}" height="{:.0f}" font-family="sans-serif" font-size="11">').format(width, height, width, height),
             Markup("<title>{}</title>").format(title)]
    parts += _panel(loss, left=44.0, name="training loss", color="#c05621", ymax=loss_top, xrange=xrange, plot=plot)
    parts += _panel(f1, left=434.0, name="validation macro-F1", color="#2b6cb0", ymax=1.0, xrange=xrange, plot=plot)
    parts.append(Markup("</svg>"))
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
