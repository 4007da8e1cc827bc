"""Issue #15 text hygiene: the dashboard withholds what the report withholds; no autolinks; bidi controls shown as
visible escapes in the dashboard, HTML report, Markdown and JUnit (one sanitiser, audit/core/text.py)."""
from pathlib import Path

import pytest
from record_factory import make_record
from apptest_tabs import each_tab
from streamlit.testing.v1 import AppTest

from audit.core.text import break_autolinks, markdown_inline, neutralise
from audit.policy import junit_xml, markdown_summary
from audit.record import Notice
from audit.record.store import RunStore

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
RLO = "\u202e"
SECRET = "123-45-6789"


def _page(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("views/run.py")
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at: AppTest) -> list[str]:
    parts = [str(e.value) for kind in ("text", "markdown", "caption", "warning", "error", "info") for e in getattr(at, kind)]
    return parts + [str(getattr(e, "proto", "")) for e in at.get("html")]


def _everything(at: AppTest) -> str:
    """Everything the run page shows, with each of its (lazy) tabs opened in turn."""
    parts = _shown(at)
    for tab in each_tab(at):
        parts += _shown(tab)
    return "\n".join(parts)


@pytest.fixture
def store(tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs")
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(store.root))
    monkeypatch.setenv("GOVAUDIT_REVIEWERS", str(store.root / "reviewers.json"))
    return store


def _with_pii(record):
    for fam in record.counterfactual.families:
        for ex in fam.worst_examples:
            ex.original = f"my SSN is {SECRET}, mail jo@example.org"
            ex.swapped = f"my SSN is {SECRET}, mail jo@example.org (swapped)"
    for ex in record.attribution.top_reliance_examples + record.attribution.highlighted_examples:
        ex.words = ["ssn", SECRET, "phone", "555-0100"]
    return record


def test_dashboard_withholds_texts_of_a_run_trained_under_a_waiver(store):
    store.create(_with_pii(make_record("waived", waiver=True)))
    shown = _everything(_page(run="waived"))
    assert SECRET not in shown and "jo@example.org" not in shown and "555-0100" not in shown
    assert "Example texts withheld: the model was trained on unscrubbed data under a waiver" in shown.replace("\\", "")


def test_dashboard_still_shows_texts_of_a_clean_run(store):
    store.create(_with_pii(make_record("clean")))
    assert SECRET in _everything(_page(run="clean"))


def test_notices_neither_autolink_nor_reverse(store):
    record = make_record("hostile")
    record.notices.append(Notice(stage="audit", code="x", message=f"see https://evil.example/a and www.evil.example "
                                                                  f"or mail x@evil.example {RLO}txt.exe"))
    store.create(record)
    warnings = "\n".join(str(w.value) for w in _page(run="hostile").warning).replace("\\", "")
    assert "https://" not in warnings and "www." not in warnings and "x@evil" not in warnings
    assert RLO not in warnings and "[U+202E]" in warnings


@pytest.mark.parametrize("ch", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                "\u2069", "\u200e", "\u200f", "\u061c", "\u200b", "\x07"])
def test_every_bidi_and_invisible_control_becomes_a_visible_escape(ch):
    out = neutralise(f"a{ch}b")
    assert ch not in out and f"[U+{ord(ch):04X}]" in out
    assert neutralise("plain ascii, tabs\tand\nnewlines") == "plain ascii, tabs\tand\nnewlines"
    assert neutralise("ünïcødé 名前") == "ünïcødé 名前"


def test_markdown_inline_breaks_every_autolink_form():
    out = markdown_inline("https://a.example http://b.example www.c.example d@e.example javascript:alert(1)")
    for needle in ("https:", "http:", "www.", "d@", "javascript:"):
        assert needle not in out.replace("\\", "")
    assert break_autolinks("no links here") == "no links here"


def test_bidi_in_gate_outputs_and_report_is_neutralised(tmp_path):
    from reports import render_html, render_markdown

    record = make_record("r1")
    record.policy.checks[0].evidence = f"group {RLO}cilbup{RLO} failed"
    for text in (junit_xml(record.policy, "r1"), markdown_summary(record.policy, "r1"),
                 render_html(record, "0" * 64), render_markdown(record, "0" * 64)):
        assert RLO not in text and "[U+202E]" in text.replace("\\", "")
