"""Benchmark: plain fairlearn MetricFrame vs the full fairness section (counts, bootstrap, tests), and streaming.

    .venv/bin/python bench/bench_fairness.py [--rows 100000] [--boot 2000] [--perm 2000] [--stream 10000000]

Rows: sex (3 values, 'unknown' included) x race/ethnicity (5 values) = 15 intersectional groups, binary outcome.
'plain MetricFrame' runs the 8 group metrics through fairlearn for the 3 groupings with no bootstrap. 'full
section' is `audit.fairness.group_audit`: GroupCounts, every point estimate, the multinomial bootstrap of every
metric, comparison with the reference, impact ratio and disparity, four-fifths and one-person-flip checks, the
permutation tests and the per-group Fisher tests with Holm correction. 'stream' generates the rows chunk by chunk
(1M rows each), counts each chunk, merges the counts and audits the sum; each stream runs in a fresh process so its
peak resident memory is its own.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

CHUNK = 1_000_000


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male", "unknown"], n, p=[0.48, 0.49, 0.03])
    race = rng.choice(["asian", "black", "hispanic", "white", "other"], n, p=[0.1, 0.15, 0.2, 0.5, 0.05])
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    y_pred[(sex == "female") & (rng.random(n) < 0.1)] = 0
    return y_true, y_pred, pd.DataFrame({"sex": sex, "race": race})


def _stream(rows: int, boot: int, perm: int) -> None:
    """Child process: stream `rows` rows in chunks; print seconds and peak RSS (MiB)."""
    from audit.core.config import FairnessConfig
    from audit.fairness import GroupCounts, audit_counts

    t0 = time.perf_counter()
    total = None
    for i, start in enumerate(range(0, rows, CHUNK)):
        y_true, y_pred, sensitive = _data(min(CHUNK, rows - start), seed=100 + i)
        part = GroupCounts.from_arrays(sensitive, y_true, y_pred, ["no", "yes"])
        total = part if total is None else total + part
        del y_true, y_pred, sensitive, part  # only one chunk alive at a time
    audit_counts(total, FairnessConfig(favorable_label="yes", n_boot=boot, n_perm=perm))
    seconds = time.perf_counter() - t0
    print(f"{seconds:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


def _run_stream(rows: int, boot: int, perm: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, __file__, "--stream-child", str(rows), "--boot", str(boot), "--perm",
                          str(perm)], check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--boot", type=int, default=2000)
    parser.add_argument("--perm", type=int, default=2000)
    parser.add_argument("--stream", type=int, default=10_000_000)
    parser.add_argument("--stream-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child is not None:
        _stream(args.stream_child, args.boot, args.perm)
        return

    from audit.core.config import FairnessConfig
    from audit.fairness import group_audit, metric_frame

    y_true, y_pred, sensitive = _data(args.rows)
    groupings = [["sex"], ["race"], ["sex", "race"]]
    metric_frame(y_true[:100], y_pred[:100], sensitive[["sex"]][:100])  # warm imports

    t0 = time.perf_counter()
    for features in groupings:
        metric_frame(y_true, y_pred, sensitive[features])
    plain = time.perf_counter() - t0

    config = FairnessConfig(favorable_label="yes", n_boot=args.boot, n_perm=args.perm)
    group_audit(y_true[:1000], y_pred[:1000], ["no", "yes"], sensitive[:1000], config)  # warm scipy
    t0 = time.perf_counter()
    audit = group_audit(y_true, y_pred, ["no", "yes"], sensitive, config)
    full = time.perf_counter() - t0
    n_groups = [len(g.groups) for g in audit.groupings]

    small_s, small_mib = _run_stream(CHUNK, args.boot, args.perm)
    big_s, big_mib = _run_stream(args.stream, args.boot, args.perm)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"rows={args.rows:,}  groups per grouping={n_groups}  resamples={args.boot}  permutations={args.perm}  "
          f"cores={cores}")
    print(f"| {'what':<62} | {'seconds':>8} | {'peak MiB':>8} |")
    print(f"|{'-' * 64}|{'-' * 10}|{'-' * 10}|")
    print(f"| {'plain MetricFrame, 3 groupings, no bootstrap':<62} | {plain:8.2f} | {'':>8} |")
    print(f"| {f'full section (group_audit), {args.boot} resamples + tests':<62} | {full:8.2f} | {'':>8} |")
    print(f"| {'  ratio full / plain':<62} | {full / plain:8.3f} | {'':>8} |")
    print(f"| {f'stream {CHUNK:,} rows (1 chunk): count, merge, audit':<62} | {small_s:8.2f} | {small_mib:8.0f} |")
    print(f"| {f'stream {args.stream:,} rows ({args.stream // CHUNK} chunks): count, merge, audit':<62} | "
          f"{big_s:8.2f} | {big_mib:8.0f} |")


if __name__ == "__main__":
    main()
