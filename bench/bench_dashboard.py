"""Dashboard speed: run page with a 100k-row predictions artifact (cold and warm cache) and the runs list with many runs.

    .venv/bin/python bench/bench_dashboard.py [--rows 100000] [--runs 300] [--repeat 3] [--no-browser]
                                              [--baseline DIR] [--rounds 1] [--returning]

Times (1) the run page in headless Chromium against a real `govaudit dashboard` server: from navigation until the
verdict is on screen and until the first chart is drawn, on the first load after the server started (cold caches)
and on reloads (warm), and (2) Streamlit AppTest script runs of the real pages (server side only, without the network
and the browser's drawing) and the heavy reads alone. Prints Markdown tables and the load average, since a busy
machine slows every number.

`--baseline DIR` (another checkout, e.g. `git archive <commit> | tar -x -C DIR`) also times the browser loads with the
server started from DIR, on the same store, alternating with this tree `--rounds` times, each row with the load
average at its start: before and after side by side under the same load. A trivial one-chart Streamlit page is timed
the same way as the floor the machine allows.

"A chart on screen" is a drawn chart at least 50 x 50 px: a Vega-Lite chart's canvas / svg, or one of the run page's
static charts (an <img> of the same chart rendered to SVG on the server, alt text "Chart: ...", once decoded); the
selectors are tests/cdp.py's CHARTS_JS. `--returning` adds, per server, a row where the browser already has
Streamlit's static files in its disk cache from an earlier visit (a returning reviewer; the server just restarted):
not the strict first load, which is the cold-browser row.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cdp import CHROMIUM, Browser, drawn_charts_js  # noqa: E402
from record_factory import make_demo_record, make_record  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from audit.record.store import RunStore  # noqa: E402


def _predictions(path: Path, rows: int) -> None:
    """A predictions artifact as audit/stage.py writes it (proba_<label>, sf_<feature>)."""
    rng = np.random.default_rng(0)
    age = rng.choice(["not older", "older american", "unknown"], size=rows, p=[0.78, 0.19, 0.03])
    prob = np.clip(rng.beta(2, 4, size=rows) - (age == "older american") * 0.05, 0, 1)
    pd.DataFrame({"row_id": [f"r{i}" for i in range(rows)],
                  "label": np.where(rng.random(rows) < prob, "relief", "no_relief"),
                  "prediction": np.where(prob >= 0.5, "relief", "no_relief"),
                  "proba_no_relief": (1 - prob).astype(np.float32), "proba_relief": prob.astype(np.float32),
                  "sf_age_group": age, "sf_military_status": rng.choice(["servicemember", "not servicemember"],
                                                                        size=rows, p=[0.1, 0.9]),
                  }).to_parquet(path, index=False)


_VERDICT_JS = "document.body.innerText.includes('Verdict: FAIL')"
# a chart drawn on screen, > 50 x 50 px: a Vega-Lite chart's canvas / svg (the selector before the static charts)
# or a static chart's decoded <img> (dashboard/charts.py draw(static=...)); tests/cdp.py CHARTS_JS
_CHART_JS = f"{drawn_charts_js(50)} > 0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_FLOOR_APP = """import altair as alt, pandas as pd, streamlit as st
st.set_page_config(layout="wide")
st.error("Verdict: FAIL")
st.altair_chart(alt.Chart(pd.DataFrame({"x": [1, 2, 3], "y": list("abc")})).mark_point().encode(x="x:Q", y="y:N"),
                width="stretch")
"""


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


@contextlib.contextmanager
def _server(root: Path, port: int, tree: Path, floor: Path | None) -> Iterator[float]:
    """A dashboard server from `tree` (its audit, dashboard and reports packages) on `port`, or Streamlit running the
    plain script `floor`; yields the seconds from its start until it answered its health check, stops it on exit."""
    command = ([sys.executable, "-m", "streamlit", "run", str(floor), "--server.headless=true", f"--server.port={port}",
                "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"] if floor else
               [sys.executable, "-m", "audit.cli", "dashboard", "--runs-root", str(root), "--port", str(port)])
    started = time.monotonic()
    server = subprocess.Popen(command, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                    if resp.read() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def _browser_timings(root: Path, run_id: str, repeat: int, tree: Path = ROOT, floor: Path | None = None,
                     returning: bool = False) -> tuple[float, float, float, float, float]:
    """Seconds to verdict and to first chart in headless Chromium: (first load after the server started, median of
    `repeat` reloads) for each. The server runs from `tree`, or runs `floor`, a plain Streamlit script, instead.
    Last: seconds from the server's start until it answered its health check (before the first navigation).
    `returning`: the browser has loaded the page once before, from an earlier server on the same port, and kept its
    disk cache (Streamlit's static files), as a reviewer coming back after a server restart; a fresh browser
    process, so nothing is in its memory cache."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/" + ("" if floor else f"run?run={run_id}")
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as profile:
        if returning:
            with _server(root, port, tree, floor), Browser(width=1440, height=1000, timeout=180,
                                                           profile=profile) as browser:
                start = browser.navigate(url)
                browser.wait_for(_CHART_JS, since=start, timeout=180)
        with _server(root, port, tree, floor) as healthy, Browser(width=1440, height=1000, timeout=180,
                                                                  profile=profile if returning else None) as browser:
            loads = []
            for _ in range(1 + repeat):
                start = browser.navigate(url)
                verdict = browser.wait_for(_VERDICT_JS, since=start, timeout=180)
                chart = browser.wait_for(_CHART_JS, since=start, timeout=180)
                loads.append((verdict, chart))
            errors = [e for e in browser.console_errors() if "404" not in e]
    if errors:
        print(f"console errors: {errors}")
    first, warm = loads[0], loads[1:]
    return (first[0], statistics.median(v for v, _ in warm), first[1], statistics.median(c for _, c in warm), healthy)


def _timed(fn, repeat: int) -> tuple[float, float]:
    """(first call, median of the next `repeat`) in seconds."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    rest = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        rest.append(time.perf_counter() - start)
    return first, statistics.median(rest)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true", help="Skip the headless-Chromium timings.")
    parser.add_argument("--baseline", type=Path, help="Another checkout to time in the browser side by side.")
    parser.add_argument("--rounds", type=int, default=1, help="Browser timings of each tree, alternating.")
    parser.add_argument("--returning", action="store_true",
                        help="Also time each tree's first load with a browser that has Streamlit's static files in "
                             "its disk cache from an earlier visit (server just restarted).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        store = RunStore(root)
        big = store.create(make_demo_record("run-big"))
        _predictions(store.artifact("run-big", big.fairness.predictions_artifact), args.rows)
        for i in range(args.runs - 1):
            store.create(make_record(f"run-{i:04d}", created_at=f"2025-02-{1 + i % 28:02d}T00:00:00+00:00"))
        os.environ["GOVAUDIT_RUNS_ROOT"] = str(root)

        from dashboard.data import clear_record_caches, load_run, open_ledger, runs_frame, score_histogram

        app = ROOT / "dashboard" / "app.py"
        at = AppTest.from_file(app, default_timeout=120)

        def runs_page() -> None:
            at.switch_page("views/runs.py").run()
            assert not at.exception and len(at.dataframe[0].value) == args.runs

        def run_page() -> None:
            at.switch_page("views/run.py")
            at.query_params["run"] = "run-big"
            at.run()
            assert not at.exception and "Verdict: FAIL" in "".join(e.value for e in at.error)
            assert any("Distribution of P" in m.value for m in at.markdown), "score histogram missing"

        results, browser = [], []
        if not args.no_browser and CHROMIUM is not None:
            floor = Path(tmp) / "floor.py"
            floor.write_text(_FLOOR_APP)
            trees = [("this tree", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
            for i in range(args.rounds):
                for name, tree in (trees if i % 2 else trees[::-1]):
                    load = _load()
                    browser.append((name, load, *_browser_timings(root, "run-big", args.repeat, tree)))
                    if args.returning:
                        load = _load()
                        browser.append((f"{name}, returning browser (static files cached)", load,
                                        *_browser_timings(root, "run-big", args.repeat, tree, returning=True)))
            load = _load()
            browser.append(("trivial page (floor)", load, *_browser_timings(root, "run-big", args.repeat, ROOT, floor)))
            if args.returning:
                load = _load()
                browser.append(("trivial page (floor), returning browser", load,
                                *_browser_timings(root, "run-big", args.repeat, ROOT, floor, returning=True)))
        at.run()  # imports and first navigation, not counted
        results += [("runs page (AppTest)", f"{args.runs} runs", *_timed(runs_page, args.repeat)),
                   ("run page (AppTest)", f"{args.rows:,} predictions", *_timed(run_page, args.repeat))]
        path = store.artifact("run-big", "predictions.parquet")
        stat = path.stat()
        score_histogram.clear()
        clear_record_caches()
        results += [
            ("runs index + sign-off states", f"{args.runs} runs", *_timed(lambda: runs_frame(store, open_ledger(store)), args.repeat)),
            ("record read + parse (cold, then cached)", "1 record", *_timed(lambda: load_run(store, "run-big"), args.repeat)),
            ("score histogram", f"{args.rows:,} rows",
             *_timed(lambda: score_histogram(str(path), (stat.st_size, stat.st_mtime_ns), "age_group", "relief"), args.repeat)),
        ]
        ledger = open_ledger(store)
        for row in store.list():
            ledger.sign(row["run_id"], load_run(store, row["run_id"]).subject_sha256, "approve", "bench", "bench")
        clear_record_caches()
        results.append(("runs index, every run approved", f"{args.runs} runs",
                        *_timed(lambda: runs_frame(store, ledger), args.repeat)))
    print(f"\n{os.cpu_count()} CPUs, load average {_load()}")
    if browser:
        print(f"\nRun page in headless Chromium, {args.rows:,} predictions (s; warm: median of {args.repeat} reloads)"
              "\n\n| server | load average at start | verdict, first load | verdict, warm | first chart, first load "
              "| first chart, warm | server start to healthy |\n|---|---|---|---|---|---|---|")
        for name, load, *times in browser:
            print(f"| {name} | {load} | " + " | ".join(f"{t:.2f}" for t in times) + " |")
    print(f"\n| what | size | first (s) | after first, median of {args.repeat} (s) |\n|---|---|---|---|")
    for name, size, first, warm in results:
        print(f"| {name} | {size} | {first:.3f} | {warm:.3f} |")


if __name__ == "__main__":
    main()
