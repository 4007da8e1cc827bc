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
