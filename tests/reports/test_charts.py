"""The report's SVG charts: axes set by groups with a verdict, tick labels that cannot overlap, training curves with
loss and F1 on their own axes."""
from __future__ import annotations

import re
from itertools import pairwise

from html_tree import parse

from reports._charts import TICK_SPACING, Bar, curve_chart, interval_chart, nice_step


def _ticks(svg: str) -> list[tuple[float, float]]:
    """(x, value) of every tick label."""
    root = parse(svg)
    return [(float(t.attrs["x"]), float(t.text())) for t in root.iter("text") if t.attrs.get("class") == "tick"]


def test_an_excluded_small_group_does_not_stretch_the_impact_ratio_axis():
    bars = [Bar("ref (n=700)", 1.0, 0.9, 1.1, "ref"), Bar("b (n=170)", 0.69, 0.59, 0.79, "bad"),
            Bar("tiny (n=12)", 1.28, 0.88, 4.0, "small")]
    ticks = _ticks(str(interval_chart(bars, title="t", axis_label="a", threshold=0.8, floor=1.2)))
    assert max(v for _, v in ticks) <= 1.25
    assert "▸ 1.280" in str(interval_chart(bars, title="t", axis_label="a", floor=1.2)), "clipped bar is marked"


def test_tick_labels_are_at_least_the_tick_spacing_apart():
    for top in (0.3, 1.0, 1.2, 2.7, 4.0, 9.0):
        bars = [Bar("a", top, top * 0.8, top, "ok"), Bar("b", top / 2, None, None, "ok")]
        xs = [x for x, _ in _ticks(str(interval_chart(bars, title="t", axis_label="a")))]
        assert len(xs) >= 3
        assert min(b - a for a, b in pairwise(xs)) >= TICK_SPACING - 1e-6, top


def test_nice_step_gives_round_steps_within_the_tick_budget():
    assert nice_step(1.0, 4) == 0.25 and nice_step(1.2, 4) == 0.5 and nice_step(4.0) == 0.5
    assert all(span / nice_step(span, 5) <= 5 for span in (0.07, 0.6, 3.3, 17.0))


def test_training_curves_have_separate_axes_with_ticks_and_point_markers():
    svg = str(curve_chart([(82, 0.52, 0.71), (164, 0.38, 0.78)], title="curves"))
    root = parse(svg)
    texts = [t.text() for t in root.iter("text")]
    assert "training loss" in texts and "validation macro-F1" in texts
    assert "1.00" in texts and "0.60" in texts, "F1 axis to 1.00 and loss axis to its own maximum, with labels"
    assert texts.count("82") == 2 and texts.count("164") == 2, "x ticks at the recorded steps on both panels"
    assert len(list(root.iter("circle"))) == 4
    assert len(re.findall(r"<polyline", svg)) == 2
