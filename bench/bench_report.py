"""Report rendering speed and size: HTML / Markdown / JSON for a synthetic record, small and large.

Run: .venv/bin/python bench/bench_report.py   (prints a table; no model, no data files)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from record_factory import make_record  # noqa: E402

from audit.record import Estimate, GroupResult  # noqa: E402
from reports import render_html, render_json, render_markdown  # noqa: E402


def large_record(groups: int):
    record = make_record()
    inter = record.fairness.groupings[-1]
    template = inter.groups[0]
    inter.groups = [template.model_copy(update={"group": f"group {i} × sub {i % 7}", "count": 10 + i,
                                                "impact_ratio": Estimate(value=0.5 + (i % 50) / 100, ci_low=0.4, ci_high=1.0)})
                    for i in range(groups)]
    assert all(isinstance(g, GroupResult) for g in inter.groups)
    return record


def timed(fn, record, repeat: int = 5) -> tuple[float, int]:
    fn(record)  # warm the template cache
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn(record)
    return (time.perf_counter() - start) / repeat * 1000, len(out.encode("utf-8"))


def main() -> None:
    print(f"{'record':<28}{'format':<8}{'ms/render':>10}{'size KiB':>10}")
    for label, record in (("full synthetic (9 groups)", make_record()), ("200 intersectional groups", large_record(200)),
                          ("2000 intersectional groups", large_record(2000))):
        for name, fn in (("html", render_html), ("md", render_markdown), ("json", render_json)):
            ms, size = timed(fn, record)
            print(f"{label:<28}{name:<8}{ms:>10.1f}{size / 1024:>10.1f}")


if __name__ == "__main__":
    main()
