"""The monitoring section of the report: time-series SVG charts per metric and group, alert markers, and the
per-window evidence each alert links to (`#mon-<window>`). Reads only `record.monitoring`."""
from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from audit.record import MonitoringSection

__all__ = ["Series", "trend_chart", "monitoring_charts", "window_anchor"]

_PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#319795", "#97266d", "#4a5568")
# (metric key in MonitorWindow.metrics, check id whose alerts are marked, chart title, threshold attribute)
_TRENDS = (("prediction_drift_psi", "prediction_drift", "Prediction-distribution PSI", "max_psi"),
           ("score_drift_psi", "score_drift", "Score (top-class probability) PSI", "max_psi"),
           ("oov_rate", "oov_rate", "Out-of-vocabulary token rate", None),
           ("pii_rate", "pii_rate", "Share of texts with PII", None),
           ("accuracy", "accuracy_drop", "Accuracy on delayed labels", None))


def window_anchor(key: str) -> str:
    return "mon-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    alerts: list[bool]


def trend_chart(keys: list[str], series: list[Series], *, title: str, threshold: float | None = None) -> Markup:
    """Lines over windows (x) with red rings (linked to the window's evidence) where an alert fired."""
    width, left, top, plot_w, plot_h = 640.0, 48.0, 12.0, 560.0, 150.0
    height = top + plot_h + 34 + 16 * ((len(series) + 2) // 3)
    values = [v for s in series for v in s.values if v is not None]
    ymax = max([*values, threshold or 0.0, 1e-9]) * 1.1
    n = max(len(keys), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / ymax)

    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="chart trend" role="img" viewBox="0 0 {:.0f} {:.0f}" '
                    'width="{:.0f}" height="{:.0f}" font-family="sans-serif" font-size="11">').format(width, height, width, height),
             Markup("<title>{}</title>").format(title),
             Markup('<path d="M{0:.0f} {1:.0f}V{2:.0f}H{3:.0f}" stroke="#4a5568" fill="none"/>')
             .format(left, top, top + plot_h, left + plot_w),
             Markup('<text x="{:.0f}" y="{:.0f}" text-anchor="end">{:.3g}</text><text x="{:.0f}" y="{:.0f}" '
                    'text-anchor="end">0</text>').format(left - 4, top + 8, ymax, left - 4, top + plot_h)]
    for i in {0, n // 2, n - 1} if keys else ():
        parts.append(Markup('<text x="{:.1f}" y="{:.0f}" text-anchor="middle" fill="#4a5568">{}</text>')
                     .format(x(i), top + plot_h + 14, keys[i][:16]))
    if threshold is not None:
        parts.append(Markup('<line x1="{0:.0f}" x2="{1:.0f}" y1="{2:.1f}" y2="{2:.1f}" stroke="#c53030" '
                            'stroke-dasharray="6 4"/>').format(left, left + plot_w, y(threshold)))
    for index, s in enumerate(series):
        color = _PALETTE[index % len(_PALETTE)]
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values) if v is not None)
        if coords:
            parts.append(Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>').format(coords, color))
        for i, (v, alert) in enumerate(zip(s.values, s.alerts)):
            if alert and v is not None:
                parts.append(Markup('<a href="#{}"><circle cx="{:.1f}" cy="{:.1f}" r="6" fill="none" stroke="#c53030" '
                                    'stroke-width="2.5"><title>alert: {} in {}</title></circle></a>')
                             .format(window_anchor(keys[i]), x(i), y(v), s.name, keys[i]))
        parts.append(Markup('<text x="{:.0f}" y="{:.0f}" fill="{}">{}</text>')
                     .format(left + 190 * (index % 3), top + plot_h + 30 + 16 * (index // 3), color, s.name[:28]))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _alerted(section: MonitoringSection, check: str, subject: str | None = None) -> list[bool]:
    return [any(c.id == check and c.status == "alert" and (subject is None or c.subject == subject) for c in w.checks)
            for w in section.windows]


def monitoring_charts(section: MonitoringSection, thresholds: dict[str, float] | None = None) -> list[Markup]:
    """One chart per drift metric present, then selection rate and impact ratio per sensitive feature."""
    keys = [w.key for w in section.windows]
    thresholds = thresholds or {}
    charts = []
    for metric, check, title, _ in _TRENDS:
        values = [w.metrics.get(metric) for w in section.windows]
        if any(v is not None for v in values):
            charts.append(trend_chart(keys, [Series(metric, values, _alerted(section, check))], title=title,
                                      threshold=thresholds.get(check)))
    features = sorted({g.feature for w in section.windows for g in w.groups})
    for feature in features:
        groups = sorted({g.group for w in section.windows for g in w.groups if g.feature == feature})
        for attr, check, title in (("selection_rate", "selection_rate_change", "Selection rate"),
                                   ("impact_ratio", "impact_ratio", "Impact ratio")):
            series = []
            for group in groups:
                points = [next((g for g in w.groups if g.feature == feature and g.group == group), None)
                          for w in section.windows]
                values = [getattr(p, attr) if p is not None and not p.small else None for p in points]
                series.append(Series(group, values, _alerted(section, check, f"{feature}:{group}")))
            charts.append(trend_chart(keys, series, title=f"{title} by {feature}",
                                      threshold=0.8 if attr == "impact_ratio" else None))
    return charts
