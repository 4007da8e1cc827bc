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


A4_CSS_PX = (703, 1017)  # A4 minus the print margins (186 x 269 mm) at 96 px per inch


def test_first_printed_page_is_the_executive_summary(tmp_path):
    """In print layout the header and the whole summary (verdict, counts, sign-off, open findings, not tested) fit on
    the first A4 page, and the page raises no console or CSP errors."""
    from cdp import Browser
    from record_factory import make_demo_record

    page = tmp_path / "report.html"
    page.write_text(render_html(make_demo_record()), encoding="utf-8")
    width, height = A4_CSS_PX
    with Browser(width=width, height=height) as browser:
        browser.send("Emulation.setEmulatedMedia", media="print")
        start = browser.navigate(page.as_uri())
        browser.wait_for("document.readyState === 'complete' && !!document.getElementById('verdict-status')",
                         since=start)
        for element in ("verdict-status", "check-counts", "signoff-state", "findings-open", "findings-not-run"):
            bottom = browser.evaluate(f"document.getElementById('{element}').getBoundingClientRect().bottom")
            assert 0 < bottom <= height, f"#{element} ends at {bottom:.0f} px, beyond the first page ({height} px)"
        summary_end = browser.evaluate("document.getElementById('verdict').getBoundingClientRect().bottom")
        assert summary_end <= height, f"the summary runs to {summary_end:.0f} px"
        assert browser.evaluate("document.querySelectorAll('#findings-open li.fail').length") == 3
        browser.screenshot(tmp_path / "first-page.png")
        assert browser.console_errors() == []
    share, colours = _ink(tmp_path / "first-page.png")
    assert 0.02 < share < 0.6 and colours > 20


def test_demo_report_prints_to_at_most_12_pages(tmp_path):
    """The demo-shaped record (3 groupings, 17 term families and templates, 31 checks) with one worst example per
    family (the list #17 caps) prints to 12 A4 pages or fewer."""
    from record_factory import make_demo_record

    page = tmp_path / "report.html"
    page.write_text(render_html(make_demo_record(worst_per_family=1)), encoding="utf-8")
    data = export_pdf(page, tmp_path / "report.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert 4 <= pages <= 12, f"{pages} pages"


def test_demo_report_with_the_most_examples_the_filter_keeps_prints_to_at_most_12_pages(tmp_path):
    """The longest demo report the example filter allows: 5 flips in each of the 17 families and templates, each on a
    narrative as long as the demo data's (800 characters, paragraph breaks included): excerpts keep it to 12 pages."""
    from record_factory import make_demo_record

    record = make_demo_record(worst_per_family=5)
    sentence = "I took out a payday loan and the lender kept charging fees every two weeks.\n\n"
    for family in record.counterfactual.families + record.counterfactual.templates:
        family.worst_min_shift = 0.1
        for e in family.worst_examples:
            head, tail = sentence * 5, sentence * 5
            e.original, e.swapped = f"{head}as an older customer{tail}", f"{head}as an younger customer{tail}"
            e.original_spans, e.swapped_spans = [(len(head) + 6, len(head) + 11)], [(len(head) + 6, len(head) + 13)]
            e.pred_after = "no_relief"
    page = tmp_path / "report.html"
    page.write_text(render_html(record), encoding="utf-8")
    data = export_pdf(page, tmp_path / "report.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert sum(len(f.worst_examples) for f in record.counterfactual.families + record.counterfactual.templates) == 85
    assert pages <= 12, f"{pages} pages"
