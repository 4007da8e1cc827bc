"""Benchmark: the full fairness section vs plain fairlearn MetricFrame, 100k predictions, 2 sensitive features.

    .venv/bin/python bench/bench_fairness.py [--rows 100000] [--boot 200] [--fairlearn-boot 5]

Rows: sex (3 values, 'unknown' included) x race/ethnicity (5 values) = 15 intersectional groups, binary outcome.
'plain MetricFrame' runs the same 8 metrics through fairlearn for the 3 groupings with no bootstrap; 'fairlearn
n_boot' times MetricFrame's own bootstrap on a few resamples and scales it to --boot (it recomputes the whole frame
per resample); 'full section' is `audit.fairness.group_audit`: MetricFrame point estimates plus the multinomial
bootstrap of every metric, impact ratio and disparity, four-fifths and one-person-flip checks.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male", "unknown"], n, p=[0.48, 0.49, 0.03])
    race = rng.choice(["asian", "black", "hispanic", "white", "other"], n, p=[0.1, 0.15, 0.2, 0.5, 0.05])
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    y_pred[(sex == "female") & (rng.random(n) < 0.1)] = 0
    return y_true, y_pred, pd.DataFrame({"sex": sex, "race": race})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--fairlearn-boot", type=int, default=5)
    args = parser.parse_args()

    from audit.core.config import FairnessConfig
    from audit.fairness import group_audit, metric_frame

    y_true, y_pred, sensitive = _data(args.rows)
    groupings = [["sex"], ["race"], ["sex", "race"]]
    metric_frame(y_true[:100], y_pred[:100], sensitive[["sex"]][:100])  # warm imports

    t0 = time.perf_counter()
    for features in groupings:
        metric_frame(y_true, y_pred, sensitive[features])
    plain = time.perf_counter() - t0

    t0 = time.perf_counter()
    for features in groupings:
        metric_frame(y_true, y_pred, sensitive[features], n_boot=args.fairlearn_boot, ci_quantiles=[0.025, 0.975],
                     random_state=0)
    fairlearn_boot = (time.perf_counter() - t0 - plain) / args.fairlearn_boot * args.boot + plain

    config = FairnessConfig(favorable_label="yes", n_boot=args.boot)
    t0 = time.perf_counter()
    audit = group_audit(y_true, y_pred, ["no", "yes"], sensitive, config)
    full = time.perf_counter() - t0
    n_groups = [len(g.groups) for g in audit.groupings]

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"rows={args.rows:,}  groups per grouping={n_groups}  bootstrap resamples={args.boot}  cores={cores}")
    print(f"| {'what':<52} | {'seconds':>8} |")
    print(f"|{'-' * 54}|{'-' * 10}|")
    print(f"| {'plain MetricFrame, 3 groupings, no bootstrap':<52} | {plain:8.2f} |")
    print(f"| {f'fairlearn MetricFrame n_boot={args.boot} (scaled from {args.fairlearn_boot})':<52} | {fairlearn_boot:8.1f} |")
    print(f"| {f'full section (group_audit), {args.boot} resamples':<52} | {full:8.2f} |")


if __name__ == "__main__":
    main()
