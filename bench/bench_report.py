"""Report rendering speed and size: HTML / Markdown / JSON for a synthetic record, small and large; with `--pdf`, the
number of A4 pages of the demo-shaped report printed by headless Chromium.

Run: .venv/bin/python bench/bench_report.py [--pdf]   (prints tables; no model, no data files)

PDF rows: `make_demo_record` (the demo's shape: 3 groupings, 31 policy checks, 12 term families and 5 templates) with
the worst examples as the audit keeps them now (flips and |shift| >= worst_min_shift, at most worst_k per family):
"at most" is every family with worst_k qualifying examples (the longest report the filter allows), "factory" the
factory's 5 examples per family put through the same rule (its flips only: 2 per family). The factory's texts are
short (200 characters); "demo texts" puts real narratives of the demo data (audit/data/demo, median 785
characters, sampled with seed 0) in every example, the swapped word in the middle.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from record_factory import make_demo_record, make_record  # noqa: E402

from audit.record import Estimate, GroupResult  # noqa: E402
from audit.core.config import CounterfactualConfig  # noqa: E402
from reports import export_pdf, find_chromium, render_html, render_json, render_markdown  # noqa: E402


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


def filtered(record):
    """The record's worst examples through the audit's rule (audit/probes/counterfactual/_effects.worst_examples)."""
    config = CounterfactualConfig()
    for family in record.counterfactual.families + record.counterfactual.templates:
        family.worst_min_shift = config.worst_min_shift
        keep = [e for e in family.worst_examples if e.pred_before != e.pred_after
                or abs(e.prob_after - e.prob_before) >= config.worst_min_shift]
        family.worst_examples = sorted(keep, key=lambda e: -abs(e.prob_after - e.prob_before))[:config.worst_k]
    return record


def pdf_pages(record) -> tuple[int, int]:
    """(A4 pages, HTML KiB) of the report printed with the report's print CSS."""
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(render_html(record, "ab" * 32), encoding="utf-8")
        pdf = export_pdf(page, Path(tmp) / "report.pdf").read_bytes()
        return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)), page.stat().st_size // 1024


def pdf_table() -> None:
    k = CounterfactualConfig().worst_k
    rows = [("demo-shaped, no examples", make_demo_record(worst_per_family=0)),
            ("demo-shaped, factory examples filtered", filtered(make_demo_record())),
            (f"demo-shaped, at most ({k} per family, 17 families)", filtered_max(k)),
            ("demo-shaped, at most, demo texts", with_demo_texts(filtered_max(k)))]
    print("\n| record | examples | HTML KiB | PDF pages (A4) |\n|---|---|---|---|")
    for label, record in rows:
        pages, size = pdf_pages(record)
        n = sum(len(f.worst_examples) for f in record.counterfactual.families + record.counterfactual.templates)
        print(f"| {label} | {n} | {size} | {pages} |")


def filtered_max(k: int):
    """Every family with k examples that pass the rule (each a flip)."""
    record = make_demo_record(worst_per_family=k)
    for family in record.counterfactual.families + record.counterfactual.templates:
        family.worst_min_shift = CounterfactualConfig().worst_min_shift
        for e in family.worst_examples:
            e.pred_after = "no_relief"
    return record


def with_demo_texts(record, seed: int = 0):
    """Every worst example on a narrative of the demo data, 'older' -> 'younger' at a word boundary in its middle."""
    import numpy as np
    import pandas as pd

    texts = pd.read_csv(ROOT / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv")["narrative"].dropna().tolist()
    rng = np.random.default_rng(seed)
    for family in record.counterfactual.families + record.counterfactual.templates:
        for e in family.worst_examples:
            text = texts[int(rng.integers(len(texts)))]
            cut = text.find(" ", len(text) // 2) + 1 or len(text)
            e.original, e.swapped = f"{text[:cut]}older {text[cut:]}", f"{text[:cut]}younger {text[cut:]}"
            e.original_spans, e.swapped_spans = [(cut, cut + 5)], [(cut, cut + 7)]
    return record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdf", action="store_true", help="Also print the demo-shaped report to PDF and count pages.")
    args = parser.parse_args()
    if args.pdf:
        if find_chromium() is None:
            sys.exit("--pdf needs Chromium (Debian: apt-get install chromium)")
        pdf_table()
        return
    print(f"{'record':<28}{'format':<8}{'ms/render':>10}{'size KiB':>10}")
    for label, record in (("full synthetic (9 groups)", make_record()), ("200 intersectional groups", large_record(200)),
                          ("2000 intersectional groups", large_record(2000))):
        for name, fn in (("html", render_html), ("md", render_markdown), ("json", render_json)):
            ms, size = timed(fn, record)
            print(f"{label:<28}{name:<8}{ms:>10.1f}{size / 1024:>10.1f}")


if __name__ == "__main__":
    main()
