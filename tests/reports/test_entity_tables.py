"""Token-classifier and PII-recall sections in the HTML / Markdown / JSON report and on the dashboard run page."""
from __future__ import annotations

import json

import entity_builders
from record_factory import make_record

from reports import entity_tables, render_html, render_json, render_markdown


def _record():
    record = make_record("run-ner")
    record.entities, record.entity_parity = entity_builders.entities(), entity_builders.parity(0.6)
    record.pii_evaluation = entity_builders.pii()
    return record


def test_tables_cover_each_section_and_none_for_a_sequence_run():
    titles = [t.title for t in entity_tables(_record())]
    assert titles == ["Entity precision, recall and F1", "Entity recall parity across name groups",
                      "PII recall of the scrubber (labelled sample)"]
    assert entity_tables(make_record("plain")) == []


def test_html_markdown_and_json_show_the_same_numbers():
    record = _record()
    html, markdown = render_html(record), render_markdown(record)
    assert '<section id="entities">' in html and "0.600 [0.500, 0.700]" in html
    assert "### Entity recall parity across name groups" in markdown and r"0.600 \[0.500, 0.700\]" in markdown
    assert "0.700 [0.680, 0.700]" in html and r"0.700 \[0.680, 0.700\]" in markdown  # PHONE_NUMBER recall
    tables = json.loads(render_json(record))["entity_tables"]
    assert [t["key"] for t in tables] == ["entity-metrics", "entity-parity", "pii-recall"]
    assert '<section id="entities">' not in render_html(make_record("plain"))


def test_dashboard_run_page_shows_the_tables(tmp_path, monkeypatch):
    from apptest_tabs import open_tab
    from streamlit.testing.v1 import AppTest

    from audit.record.store import RunStore
    from tests.dashboard.test_pages import APP

    store = RunStore(tmp_path / "runs")
    store.create(_record())
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("views/run.py")
    at.query_params.update(run="run-ner")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    open_tab(at, "Training")  # the tables are in the (lazy) Training tab
    parity = next(d.value for d in at.dataframe if "lowest/highest ratio" in d.value.columns)
    assert list(parity["group"]) == ["male", "female"] and parity.loc[1, "lowest/highest ratio"] == "0.600 [0.500, 0.700]"


def _ner_audit_record():
    from audit.policy import evaluate_policy, load_policy

    record = make_record("run-ner-audit")
    record.entities, record.entity_parity = entity_builders.entities(), entity_builders.parity(0.6)
    record.span_flips, record.span_attribution = entity_builders.flips(0.3), entity_builders.span_attribution(0.3)
    record.policy = evaluate_policy(record, load_policy("ner"))
    return record


def test_span_flip_and_span_attribution_tables_show_the_gate_level_from_the_policy():
    record = _ner_audit_record()
    tables = {t.key: t for t in entity_tables(record)}
    assert list(tables) == ["entity-metrics", "entity-parity", "span-flips", "span-attribution"]
    flips = tables["span-flips"]
    female = next(r for r in flips.rows if r[1] == "female")
    assert female[3] == "0.300 [0.250, 0.350]" and female[-1] == "WARN"  # span_flip_rate warns in the ner policy
    assert next(r for r in flips.rows if r[1] == "male")[-1] == ""
    assert "2 swaps of documents past max_length left out" in flips.caption
    attribution = tables["span-attribution"]
    assert attribution.rows[0][:2] == ("LOC", "20") and "moved 0.100" in attribution.rows[0][4]
    assert attribution.rows[1][3] == "n/a" and attribution.rows[-1][-1] == "WARN"
    assert next(r for r in tables["entity-parity"].rows if r[1] == "female")[-1] == "FAIL"
    record.policy = None
    assert all(r[-1] == "" for r in entity_tables(record)[2].rows)  # not judged: no level shown


def test_span_tables_in_html_markdown_json_and_dashboard(tmp_path, monkeypatch):
    from apptest_tabs import open_tab
    from streamlit.testing.v1 import AppTest

    from audit.record.store import RunStore
    from tests.dashboard.test_pages import APP

    record = _ner_audit_record()
    html, markdown = render_html(record), render_markdown(record)
    assert "Name swaps that change predicted spans" in html and "Attribution per predicted span" in html
    assert "### Name swaps that change predicted spans" in markdown and r"0.300 \[0.250, 0.350\]" in markdown
    keys = [t["key"] for t in json.loads(render_json(record))["entity_tables"]]
    assert "span-flips" in keys and "span-attribution" in keys
    store = RunStore(tmp_path / "runs")
    store.create(record)
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("views/run.py")
    at.query_params.update(run="run-ner-audit")
    at.run()
    open_tab(at, "Training")
    flips = next(d.value for d in at.dataframe if "over the name" in d.value.columns)
    assert list(flips["group"]) == ["male", "female"] and flips.loc[1, "gate"] == "WARN"
