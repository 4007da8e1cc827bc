"""Window specs ('7d', '24h', '1000rows') and the window each log row falls in."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.core.errors import BadInputError

__all__ = ["WindowSpec", "parse_window"]

_SPEC = re.compile(r"^\s*(\d+)\s*(d|h|rows)\s*$")
_ORIGIN = pd.Timestamp("1970-01-05", tz="UTC").value  # a Monday: 7d windows run Monday 00:00 UTC to Monday
_UNIT_NS = {"d": 86_400 * 10**9, "h": 3_600 * 10**9}


@dataclass(frozen=True)
class WindowSpec:
    text: str
    kind: str  # time or rows
    size: int  # nanoseconds or rows

    def index_of_times(self, ns: np.ndarray) -> np.ndarray:
        return (ns - _ORIGIN) // self.size

    def key(self, index: int) -> str:
        if self.kind == "rows":
            return f"rows:{index * self.size:09d}-{(index + 1) * self.size - 1:09d}"
        return pd.Timestamp(_ORIGIN + index * self.size, tz="UTC").strftime("%Y-%m-%dT%H:%MZ")

    def bounds(self, index: int) -> tuple[str, str]:
        """Start (inclusive) and end (exclusive) of window `index`: timestamps, or row positions for row windows."""
        if self.kind == "rows":
            return str(index * self.size), str((index + 1) * self.size)
        start = pd.Timestamp(_ORIGIN + index * self.size, tz="UTC")
        return start.isoformat(), (start + pd.Timedelta(self.size, "ns")).isoformat()


def parse_window(text: str) -> WindowSpec:
    match = _SPEC.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise BadInputError(f"invalid window {text!r}", where="--window / monitor.window",
                            fix="use '<n>d' or '<n>h' (calendar windows, UTC) or '<n>rows', e.g. 7d or 1000rows")
    count, unit = int(match.group(1)), match.group(2)
    if unit == "rows":
        return WindowSpec(f"{count}rows", "rows", count)
    return WindowSpec(f"{count}{unit}", "time", count * _UNIT_NS[unit])
