"""Benchmark: plain fairlearn MetricFrame vs the full fairness section (counts, bootstrap, tests), and streaming.

    .venv/bin/python bench/bench_fairness.py [--rows 100000] [--boot 2000] [--perm 2000] [--stream 10000000] [--ray]

Rows: sex (3 values, 'unknown' included) x race/ethnicity (5 values) = 15 intersectional groups, binary outcome.
'plain MetricFrame' runs the 8 group metrics through fairlearn for the 3 groupings with no bootstrap. 'full
section' is `audit.fairness.group_audit`: GroupCounts, every point estimate, the multinomial bootstrap of every
metric, comparison with the reference, impact ratio and disparity, four-fifths and one-person-flip checks, the
permutation tests and the per-group Fisher tests with Holm correction. 'stream' generates the rows chunk by chunk
(1M rows each), counts each chunk, merges the counts and audits the sum; each stream runs in a fresh process so its
peak resident memory is its own. With --ray the 10M stream also runs on a local Ray (one task per chunk, the
driver adds the returned counts); the table says whether its counts equal the local stream's (SHA-256 of the counts).
"""
from __future__ import annotations

import argparse
import hashlib
import json
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


def _count_chunk(rows: int, seed: int):
    from audit.fairness import GroupCounts

    y_true, y_pred, sensitive = _data(rows, seed=seed)
    return GroupCounts.from_arrays(sensitive, y_true, y_pred, ["no", "yes"])


def _stream(rows: int, boot: int, perm: int, on_ray: bool) -> None:
    """Child process: stream `rows` rows in chunks; print seconds, peak RSS (MiB) and the counts' SHA-256."""
    from audit.core.config import FairnessConfig
    from audit.fairness import GroupCounts, audit_counts

    chunks = [(min(CHUNK, rows - start), 100 + i) for i, start in enumerate(range(0, rows, CHUNK))]
    t0 = time.perf_counter()
    if on_ray:
        import ray

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=len(os.sched_getaffinity(0)), include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR")
        count = ray.remote(_count_chunk)
        pending = [count.remote(n, seed) for n, seed in chunks]
        total = None
        while pending:  # add each shard's counts as it finishes; shards' rows never reach the driver
            done, pending = ray.wait(pending, num_returns=1)
            part = ray.get(done[0])
            total = part if total is None else total + part
    else:
        total = None
        for n, seed in chunks:
            part = _count_chunk(n, seed)
            total = part if total is None else total + part
            del part  # only one chunk alive at a time
    audit_counts(total, FairnessConfig(favorable_label="yes", n_boot=boot, n_perm=perm))
    seconds = time.perf_counter() - t0
    digest = hashlib.sha256(json.dumps(GroupCounts.to_dict(total), sort_keys=True).encode()).hexdigest()[:12]
    print(f"{seconds:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {digest}")


def _run_stream(rows: int, boot: int, perm: int, on_ray: bool = False) -> tuple[float, float, str]:
    out = subprocess.run([sys.executable, __file__, "--stream-child", str(rows), "--boot", str(boot), "--perm",
                          str(perm), *(["--ray"] if on_ray else [])],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), out[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--boot", type=int, default=2000)
    parser.add_argument("--perm", type=int, default=2000)
    parser.add_argument("--stream", type=int, default=10_000_000)
    parser.add_argument("--ray", action="store_true", help="also stream the big run on a local Ray")
    parser.add_argument("--stream-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child is not None:
        _stream(args.stream_child, args.boot, args.perm, args.ray)
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

    small_s, small_mib, _ = _run_stream(CHUNK, args.boot, args.perm)
    big_s, big_mib, big_sha = _run_stream(args.stream, args.boot, args.perm)
    ray_run = _run_stream(args.stream, args.boot, args.perm, on_ray=True) if args.ray else None

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
    if ray_run is not None:
        ray_s, ray_mib, ray_sha = ray_run
        same = "same counts" if ray_sha == big_sha else "COUNTS DIFFER"
        print(f"| {f'  the same on Ray ({cores} CPUs, Ray start-up included), {same}':<62} | {ray_s:8.2f} | "
              f"{ray_mib:8.0f} |")


if __name__ == "__main__":
    main()
