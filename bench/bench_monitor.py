"""Benchmark: `audit.monitor` on 1M logged predictions with 2 sensitive features, windows of 10k rows.

    .venv/bin/python bench/bench_monitor.py [--rows 1000000] [--window 10000rows] [--formats parquet csv]

Each measurement runs in a fresh subprocess (`taskset -c 0,1` where available: 2 cores) that ingests the log into an
empty window store and judges every window with the shipped monitoring policy; 'peak RSS' is that process's
maximum resident set size, 'CPU s' its user + system time (less sensitive to other jobs than wall time) and
'load avg' the 1-minute load average when it ended. Run it at two sizes to see memory stay flat in the number of
rows (logs are streamed in chunks of monitor.chunk_rows = 50k; CSV through pyarrow's streaming reader). No text column and no embeddings: text descriptors cost the tokenizer's time.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

LABELS = ["no_relief", "relief"]


def _frame(n: int, rng: np.random.Generator, start: int = 0) -> pd.DataFrame:
    sex = rng.choice(["female", "male", "unknown"], n, p=[0.48, 0.49, 0.03])
    race = rng.choice(["asian", "black", "hispanic", "white", "other"], n, p=[0.1, 0.15, 0.2, 0.5, 0.05])
    pred = (rng.random(n) < 0.4).astype(int)
    top = 0.5 + 0.5 * rng.beta(2, 2, n)
    p_relief = np.where(pred == 1, top, 1 - top)
    label = np.where(rng.random(n) < 0.85, pred, 1 - pred).astype(object)
    label[rng.random(n) < 0.5] = None
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(start + np.arange(n), unit="s")
    return pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "prediction": np.asarray(LABELS)[pred],
                         "proba_no_relief": 1 - p_relief, "proba_relief": p_relief,
                         "label": [None if v is None else LABELS[v] for v in label], "sex": sex, "race": race})


def write_log(path: Path, rows: int, fmt: str, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, 100_000):
        part = _frame(min(100_000, rows - start), rng, start)
        if fmt == "csv":
            part.to_csv(path, mode="a", header=start == 0, index=False)
        else:
            table = pa.Table.from_pandas(part, preserve_index=False)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    if writer:
        writer.close()


def worker(log: Path, window: str) -> None:
    from audit.core.config import MonitorConfig
    from audit.monitor import (LogSchema, Reference, load_monitor_policy, monitoring_section, parse_window,
                               reference_stats, update_windows)

    schema = LogSchema(MonitorConfig(label_column="label", sensitive_features={"sex": "sex", "race": "race"}),
                       LABELS, (1,), {"sex": "sex", "race": "race"})
    ref = _frame(5000, np.random.default_rng(99)).rename(columns={"sex": "sf_sex", "race": "sf_race"})
    ref["label"] = ref["label"].fillna("relief")
    spec = parse_window(window)
    store = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    ingested = update_windows(store, [log], schema, spec)
    ingest_s = time.perf_counter() - started
    section = monitoring_section(ingested, Reference(reference_stats(ref, schema), "bench"), spec, schema,
                                 load_monitor_policy())
    total_s = time.perf_counter() - started
    shutil.rmtree(store)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"ingest_s": ingest_s, "total_s": total_s, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "windows": len(section.windows), "alerts": len(section.alerts), "rss_mb": usage.ru_maxrss / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--window", default="10000rows")
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    parser.add_argument("--worker", nargs=2, metavar=("LOG", "WINDOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), args.worker[1])
        return
    pin = ["taskset", "-c", "0,1"] if shutil.which("taskset") and (os.cpu_count() or 1) >= 2 else []
    print("| rows | format | windows | ingest s | total s | CPU s | rows/s | peak RSS MB | alerts | load avg |\n"
          "|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            for fmt in args.formats:
                log = Path(tmp) / f"log_{rows}.{fmt}"
                write_log(log, rows, fmt)
                out = subprocess.run([*pin, sys.executable, __file__, "--worker", str(log), args.window],
                                     check=True, capture_output=True, text=True, cwd=Path(__file__).parents[1],
                                     env={**os.environ, "OMP_NUM_THREADS": "2", "PYTHONPATH": str(Path(__file__).parents[1])})
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"| {rows:,} | {fmt} | {r['windows']} | {r['ingest_s']:.1f} | {r['total_s']:.1f} | {r['cpu_s']:.1f} | "
                      f"{rows / r['total_s']:,.0f} | {r['rss_mb']:.0f} | {r['alerts']} | {os.getloadavg()[0]:.1f} |",
                      flush=True)
                log.unlink()


if __name__ == "__main__":
    main()
