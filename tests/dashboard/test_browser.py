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
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
