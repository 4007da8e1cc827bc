"""Headless Chromium for PDF export and screenshots (optional: only when a Chromium binary is installed)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from audit.core.errors import BadInputError
from audit.core.io import atomic_path

__all__ = ["find_chromium", "export_pdf", "screenshot", "HEADLESS_FLAGS"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions", "--no-first-run",
                  "--disable-default-apps", "--mute-audio", "--hide-scrollbars")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary on PATH, or None."""
    return next((path for name in _CANDIDATES if (path := shutil.which(name))), None)


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    if binary is None:
        raise BadInputError("no Chromium found for headless rendering",
                            fix="install it (Debian: `apt-get install chromium`) or open the HTML report and print it")
    with tempfile.TemporaryDirectory(prefix="govaudit-chromium-") as profile:
        try:
            return subprocess.run([binary, *HEADLESS_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise BadInputError(f"Chromium did not finish within {timeout:.0f} s") from None


def export_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 180) -> Path:
    """Print a report to PDF with the report's own print CSS (A4, page breaks); written atomically."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    with atomic_path(pdf_path) as tmp:
        done = _run(["--no-pdf-header-footer", f"--print-to-pdf={tmp.resolve()}", html_path.as_uri()], timeout)
        if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            raise BadInputError(f"Chromium could not print the PDF (exit {done.returncode})", where=str(html_path))
    return pdf_path


def screenshot(html_path: str | Path, png_path: str | Path, *, width: int = 1280, height: int = 2000,
               timeout: float = 180) -> str:
    """Screenshot the page; returns Chromium's stderr log (console messages appear there as 'CONSOLE' lines)."""
    html_path, png_path = Path(html_path).resolve(), Path(png_path).resolve()
    done = _run(["--enable-logging=stderr", "--v=0", f"--window-size={width},{height}", f"--screenshot={png_path}",
                 html_path.as_uri()], timeout)
    if done.returncode != 0 or not png_path.is_file():
        raise BadInputError(f"Chromium could not take a screenshot (exit {done.returncode})", where=str(html_path))
    return done.stderr
