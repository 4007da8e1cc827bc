"""A headless Chromium driven over the DevTools protocol (websockets' sync client): navigate, wait for what is on
screen, read console errors, screenshot. Used by the browser tests and bench/bench_dashboard.py."""
from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

__all__ = ["CHARTS_JS", "CHROMIUM", "STATIC_CHART", "Browser", "drawn_charts_js"]

# The run page's static charts (dashboard/charts.py `draw(static=...)`): a server-rendered SVG as a Markdown image,
# alt text dashboard.charts.STATIC_ALT ("Chart: ...").
STATIC_CHART = '[data-testid=stMarkdownContainer] img[alt^="Chart: "]'
# The charts on the page as DOM elements: Vega-Lite charts (their canvas or svg) and static charts once decoded.
CHARTS_JS = ("[...document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg'),"
             f" ...[...document.querySelectorAll('{STATIC_CHART}')].filter(e => e.complete && e.naturalWidth > 0)]")


def drawn_charts_js(min_px: int = 50) -> str:
    """JavaScript: how many charts are drawn at least `min_px` wide and high."""
    return (f"{CHARTS_JS}.filter(e => e.getBoundingClientRect().width > {min_px} && "
            f"e.getBoundingClientRect().height > {min_px}).length")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--mute-audio",
          "--disable-extensions", "--disable-default-apps")


class Browser:
    """One Chromium with one page. `with Browser(width=1440) as b: b.navigate(url); b.wait_for("js expr")`."""

    def __init__(self, *, width: int = 1440, height: int = 1000, timeout: float = 60,
                 profile: str | Path | None = None) -> None:
        """`profile`: a user-data directory kept after the browser closes (its HTTP cache too), for a browser that
        has been here before; default a fresh one, removed on close."""
        if CHROMIUM is None:
            raise RuntimeError("no Chromium on PATH")
        self.width, self.height, self.timeout, self.profile = width, height, timeout, profile
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def __enter__(self) -> Browser:
        self._profile = None if self.profile else tempfile.TemporaryDirectory(prefix="govaudit-cdp-",
                                                                              ignore_cleanup_errors=True)
        profile = self.profile or self._profile.name
        self._proc = subprocess.Popen([CHROMIUM, *_FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
                                       f"--window-size={self.width},{self.height}", "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = self._devtools_port()
        pages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.timeout
        while not pages and time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
                pages = [t for t in json.load(resp) if t.get("type") == "page"]
            time.sleep(0.05)
        self._stack = contextlib.ExitStack()
        self._ws = self._stack.enter_context(connect(pages[0]["webSocketDebuggerUrl"], max_size=None,
                                                     open_timeout=self.timeout))
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height, deviceScaleFactor=1,
                  mobile=False)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._stack.close()
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._profile is not None:
                self._remove_profile()

    def _remove_profile(self) -> None:
        """Chromium's helper processes can still write into the profile for a moment after the browser exits."""
        for _ in range(40):
            try:
                shutil.rmtree(self._profile.name)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.25)
        self._profile.cleanup()

    def _devtools_port(self) -> int:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                return int(found.group(1))
        raise RuntimeError(f"Chromium exited ({self._proc.wait()}) before DevTools started")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result; events that arrive meanwhile go to `events`."""
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=self.timeout))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def navigate(self, url: str) -> float:
        """Start loading `url`; returns the monotonic time the navigation was sent."""
        start = time.monotonic()
        self.send("Page.navigate", url=url)
        return start

    def wait_for(self, expression: str, *, since: float, timeout: float | None = None, poll: float = 0.02) -> float:
        """Seconds from `since` until `expression` is truthy in the page (raises TimeoutError)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return time.monotonic() - since
            time.sleep(poll)
        raise TimeoutError(f"not on screen within {timeout or self.timeout:.0f} s: {expression}")

    def console_errors(self) -> list[str]:
        """Uncaught exceptions, console.error calls and error-level log entries seen so far."""
        out = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                out.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                out.append(" ".join(filter(None, (entry.get("text", ""), entry.get("url")))))
        return out

    def screenshot(self, path: str | Path, *, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": size["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path
