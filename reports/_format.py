"""Number formatting shared by the HTML, Markdown and comparison renderers (one place, so all agree)."""
from __future__ import annotations

import math
from typing import Any

__all__ = ["num", "pct", "est", "est_pct", "signed", "pvalue", "value_of", "DASH"]

DASH = "–"


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def num(value: Any, digits: int = 3) -> str:
    """3 decimals for floats, thousands separators for ints, '–' for missing; other values as text."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def pct(value: Any, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%" if _finite(value) else DASH


def signed(value: Any, digits: int = 3) -> str:
    return f"{value:+.{digits}f}" if _finite(value) else DASH


def pvalue(value: Any) -> str:
    """'0.034'; '< 0.001' below a thousandth; '–' for a test that was not run."""
    if not _finite(value):
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def value_of(estimate: Any) -> float | None:
    """The point value of an Estimate (or a plain number); None when undefined."""
    value = getattr(estimate, "value", estimate)
    return float(value) if _finite(value) else None


def est(estimate: Any, digits: int = 3, *, as_pct: bool = False) -> str:
    """'0.812 [0.751, 0.870]'; 'undefined (why)' when the value is None."""
    if estimate is None:
        return DASH
    fmt = (lambda v: pct(v, 1)) if as_pct else (lambda v: num(v, digits))
    value = getattr(estimate, "value", None)
    if value is None:
        note = getattr(estimate, "note", None)
        return f"undefined ({note})" if note else "undefined"
    text = fmt(value)
    low, high = getattr(estimate, "ci_low", None), getattr(estimate, "ci_high", None)
    if low is not None and high is not None:
        text += f" [{fmt(low)}, {fmt(high)}]"
    return text


def est_pct(estimate: Any) -> str:
    return est(estimate, as_pct=True)
