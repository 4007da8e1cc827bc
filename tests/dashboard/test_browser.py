"""`govaudit dashboard` end to end: a headless server on a free localhost port, the run page in headless Chromium.

Also the sign-off page of a rolled-back ledger (issue #15). Set GOVAUDIT_SCREENSHOT=docs/img/dashboard.png to refresh
the README screenshot.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from record_factory import make_mitigated_record, make_record

from audit.record.signoff import SignoffLedger, signoff_subject_sha256
from audit.record.store import RunStore

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"dashboard exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                if resp.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("dashboard did not become healthy")


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000", *extra, url],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
def test_run_page_renders_the_verdict_in_chromium(tmp_path):
    root = tmp_path / "runs"
    store = RunStore(root)
    before = store.create(make_record("run-before"))
    store.create(make_mitigated_record(before, run_id="run-after"))
    port = _free_port()
    govaudit = Path(sys.executable).with_name("govaudit")
    launcher = [str(govaudit)] if govaudit.exists() else [sys.executable, "-m", "audit.cli"]
    proc = subprocess.Popen([*launcher, "dashboard", "--runs-root", str(root), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(port, proc)
        url = f"http://127.0.0.1:{port}/run?run=run-before"
        dom, attempt, deadline = "", 0, time.monotonic() + 75
        while "Verdict: FAIL" not in dom and time.monotonic() < deadline:
            # the page renders over a websocket after the server's first (slow, import-heavy) script run: retry
            attempt += 1
            dom = _chromium(url, tmp_path / f"profile{attempt}", "--dump-dom").stdout
        shown = re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", dom))
        assert "Verdict: FAIL" in dom and "Run run-before" in dom, " ".join(shown.split())[-1500:]
        assert "Impact ratio at least 0.8" in dom
        shot = tmp_path / "dashboard.png"
        _chromium(url, tmp_path / "profile-shot", "--window-size=1400,1500", f"--screenshot={shot}")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("GOVAUDIT_SCREENSHOT"):
            shutil.copyfile(shot, os.environ["GOVAUDIT_SCREENSHOT"])
    finally:
        _stop(proc)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
def test_signoff_page_on_a_rolled_back_ledger_in_chromium(tmp_path):
    from sqlalchemy import text

    root = tmp_path / "runs"
    store = RunStore(root)
    record = store.create(make_record("run-before"))
    ledger = SignoffLedger(store)
    ledger.sign("run-before", signoff_subject_sha256(record), "approve", "fine", "alice")
    ledger.sign("run-before", signoff_subject_sha256(record), "reject", "revoked", "ben")
    (root / "signoff-head.json").unlink()
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM signoffs WHERE seq=2"))
    port = _free_port()
    govaudit = Path(sys.executable).with_name("govaudit")
    launcher = [str(govaudit)] if govaudit.exists() else [sys.executable, "-m", "audit.cli"]
    proc = subprocess.Popen([*launcher, "dashboard", "--runs-root", str(root), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(port, proc)
        url = f"http://127.0.0.1:{port}/signoff?run=run-before"
        dom, attempt, deadline = "", 0, time.monotonic() + 75
        while "Sign-off trail BROKEN" not in dom and time.monotonic() < deadline:
            attempt += 1
            dom = _chromium(url, tmp_path / f"profile{attempt}", "--dump-dom").stdout
        shown = " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", dom)).split())
        assert "Sign-off trail BROKEN" in shown, shown[-1500:]
        assert "signoff-head.json is missing" in shown
        assert "Not approved for this evidence" in shown and "trail intact" not in shown
    finally:
        _stop(proc)


def _drawn() -> str:
    """JavaScript: the number of charts drawn (Vega-Lite charts, and the run page's static chart images)."""
    from cdp import drawn_charts_js

    return drawn_charts_js(50)


def _serve(root: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "audit.cli", "dashboard", "--runs-root", str(root), "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, port


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


_VEGA = "document.querySelectorAll('[data-testid=stVegaLiteChart]').length"
_STATIC = "document.querySelectorAll('[data-testid=stMarkdownContainer] img[alt^=\"Chart: \"]').length"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
def test_run_page_first_chart_is_a_drawn_image_and_the_interactive_chart_a_click_away(tmp_path):
    """The first view draws the Fairness tab's chart as an image of its SVG (decoded, > 50 x 50 px) and no Vega
    chart; the toggle swaps it for the drawn Vega-Lite chart; no console errors."""
    from cdp import Browser

    root = tmp_path / "runs"
    RunStore(root).create(make_record("run-before"))
    proc, port = _serve(root)
    try:
        _wait_healthy(port, proc, timeout=90)
        with Browser(width=1440, height=1000, timeout=120) as browser:
            start = browser.navigate(f"http://127.0.0.1:{port}/run?run=run-before")
            browser.wait_for(f"{_drawn()} >= 1 && !document.querySelector('[data-testid=stStatusWidget]')",
                             since=start, timeout=120)  # drawn, and the script run has finished
            time.sleep(1.0)
            assert browser.evaluate(_VEGA) == 0 and browser.evaluate(_STATIC) == 1
            alt = browser.evaluate("document.querySelector('[data-testid=stMarkdownContainer] img').alt")
            assert alt == "Chart: impact_ratio by group of age_group"
            size = browser.evaluate("(r => [r.width, r.height])(document.querySelector("
                                    "'[data-testid=stMarkdownContainer] img').getBoundingClientRect())")
            assert size[0] > 300 and size[1] > 100, size
            browser.evaluate("[...document.querySelectorAll('[data-testid=stCheckbox] label')]"
                             ".find(e => e.innerText.includes('Interactive charts')).querySelector('input').click()")
            browser.wait_for(f"{_VEGA} >= 1 && {_STATIC} == 0 && {_drawn()} >= 1", since=time.monotonic(),
                             timeout=120)
            errors = [e for e in browser.console_errors() if "status of 404" not in e]
            assert errors == [], errors
    finally:
        _stop(proc)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
def test_run_page_drill_down_in_chromium_at_1440px(tmp_path):
    """A failed check's evidence link opens the run page on its grouping: verdict, check counts, open checks,
    the group table, the charts drawn (estimates, score distribution, confusion matrices, what-if), no console
    errors; the runs list shows verdict and sign-off at 1440 px."""
    import numpy as np
    import pandas as pd
    from cdp import Browser
    from record_factory import make_demo_record

    root = tmp_path / "runs"
    store = RunStore(root)
    record = store.create(make_demo_record())
    rng = np.random.default_rng(1)
    n = 2000
    p = rng.random(n)
    pd.DataFrame({"row_id": [f"r{i}" for i in range(n)], "label": np.where(rng.random(n) < p, "relief", "no_relief"),
                  "prediction": np.where(p >= 0.5, "relief", "no_relief"), "proba_relief": p, "proba_no_relief": 1 - p,
                  "sf_age_group": rng.choice(["not older", "older american"], n),
                  "sf_military_status": rng.choice(["servicemember", "not servicemember"], n)}).to_parquet(
        store.artifact(record.run_id, "predictions.parquet"))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "audit.cli", "dashboard", "--runs-root", str(root), "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(port, proc, timeout=90)
        with Browser(width=1440, height=1000, timeout=240) as browser:
            start = browser.navigate(f"http://127.0.0.1:{port}/run?run={record.run_id}&check=impact_ratio:military_status")
            browser.wait_for(f"document.body.innerText.includes('Threshold what-if') && {_drawn()} >= 4", since=start,
                             timeout=240)
            text = browser.evaluate("document.body.innerText")
            assert "Verdict: FAIL" in text and "3 failed · 4 warned · 4 not run · 20 passed of 31 checks" in text
            assert "Open checks" in text and "Confusion matrix per group of military_status" in text
            assert "Distribution of P(relief) by military_status" in text
            assert browser.evaluate("document.querySelector('[data-testid=stTab][aria-selected=true]').innerText") \
                == "Fairness"
            start = browser.navigate(f"http://127.0.0.1:{port}/")
            browser.wait_for("document.body.innerText.includes('of 1 runs') && "
                             "!!document.querySelector('[data-testid=stDataFrame] [data-testid^=glide-cell-]')",
                             since=start, timeout=120)
            cells = browser.evaluate("Object.fromEntries([...document.querySelectorAll('[data-testid^=glide-cell-]')]"
                                     ".map(e => [e.dataset.testid, e.innerText.trim()]))")
            first_columns = [cells.get(f"glide-cell-{c}-0") for c in range(4)]
            assert "fail" in first_columns and "none" in first_columns, first_columns
            right = browser.evaluate("document.querySelector('[data-testid=stDataFrame]').getBoundingClientRect().right")
            assert right <= 1440
            browser.screenshot(tmp_path / "runs.png")
            errors = [e for e in browser.console_errors() if "status of 404" not in e]
            assert errors == [], errors
    finally:
        _stop(proc)
