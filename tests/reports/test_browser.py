"""The report in a real browser: headless Debian Chromium renders it without console errors or CSP violations,
the screenshot is not blank, and it prints to a multi-page PDF."""
from __future__ import annotations

import re

import pytest
from record_factory import make_record

from reports import export_pdf, find_chromium, render_html
from reports._browser import screenshot

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(find_chromium() is None,
                                 reason="Chromium not installed (Debian: apt-get install chromium; `make test` installs it)")]

CONSOLE = re.compile(r":CONSOLE[:(]|Uncaught|Content Security Policy|Refused to", re.I)


def _console_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if CONSOLE.search(line)]


def _ink(png) -> tuple[float, int]:
    """Share of non-white pixels and number of distinct colours."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        dark = sum(rgb.convert("L").histogram()[:240])
        return dark / (rgb.width * rgb.height), len(rgb.getcolors(maxcolors=1 << 20) or [])


def test_console_check_catches_a_violating_page(tmp_path):
    """The detector is live: a page that breaks its own CSP and throws is reported."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
                    "<style>p{color:red}</style><p>x</p><script>undefinedFunction()</script>", encoding="utf-8")
    assert _console_lines(screenshot(page, tmp_path / "bad.png", width=400, height=300))


def test_report_renders_in_chromium_without_errors(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(make_record()), encoding="utf-8")
    log = screenshot(page, tmp_path / "report.png", width=1280, height=2000)
    assert _console_lines(log) == []
    share, colours = _ink(tmp_path / "report.png")
    assert 0.02 < share < 0.6, f"page looks blank or broken ({share:.1%} ink)"
    assert colours > 20, "screenshot has almost no colours: charts and badges missing"


def test_report_prints_to_pdf(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(make_record()), encoding="utf-8")
    pdf = export_pdf(page, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 4, "print CSS should give several A4 pages"
