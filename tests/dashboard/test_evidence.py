"""Run-page drill-down and the dashboard defects of issue 19: pipeline predictions (`sf_<feature>`), report colours
and rounding, check subjects on Compare, lineage without repeats, labelled tables, runs list columns."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from apptest_tabs import each_tab, open_tab
from record_factory import make_demo_record, make_record
from streamlit.testing.v1 import AppTest

from audit.record.store import RunStore
from dashboard.charts import AGAINST_RGB, TOWARD_RGB, token_heatmap_html
from dashboard.data import confusion_by_group, reliability, score_histogram, threshold_sweep
from dashboard.screens.compare import check_changes
from dashboard.screens.evidence import THRESHOLDS, check_target
from dashboard.screens.run import checks_frame, labelled, lineage_rows
from dashboard.screens.runs import RUN_COLUMNS

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def _pipeline_predictions(path: Path, n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Columns as audit/stage.py writes them: row_id, label, prediction, proba_<label>, sf_<feature>."""
    rng = np.random.default_rng(seed)
    age = np.where(rng.random(n) < 0.3, "older american", "not older")
    p = np.clip(rng.random(n) - (age == "older american") * 0.15, 0, 1)
    frame = pd.DataFrame({"row_id": [f"r{i}" for i in range(n)],
                          "label": np.where(rng.random(n) < p, "relief", "no_relief"),
                          "prediction": np.where(p >= 0.5, "relief", "no_relief"),
                          "proba_relief": p.astype(np.float32), "proba_no_relief": (1 - p).astype(np.float32),
                          "sf_age_group": age, "sf_military_status": np.where(rng.random(n) < 0.1, "servicemember",
                                                                              "not servicemember")})
    frame.to_parquet(path)
    return frame


@pytest.fixture
def demo_store(tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs")
    record = store.create(make_demo_record())
    _pipeline_predictions(store.artifact(record.run_id, "predictions.parquet"))
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(store.root))
    return store, record


def test_score_distribution_reads_the_audits_sf_columns(tmp_path):
    path = tmp_path / "p.parquet"
    frame = _pipeline_predictions(path)
    hist = score_histogram(str(path), (1, 2), "age_group", "relief", bins=4)
    assert hist is not None and set(hist["group"]) == {"not older", "older american"}
    older = frame[frame["sf_age_group"] == "older american"]["proba_relief"]
    first = hist[(hist["group"] == "older american") & (hist["bin_start"] == 0.0)]["share"].item()
    assert first == pytest.approx((older < 0.25).mean())


def test_confusion_reliability_and_threshold_sweep_numbers(tmp_path):
    path = tmp_path / "p.parquet"
    frame = _pipeline_predictions(path)
    conf = confusion_by_group(str(path), (1, 3), ("age_group",))
    older = frame[frame["sf_age_group"] == "older american"]
    cell = conf[(conf["group"] == "older american") & (conf["true"] == "relief") & (conf["predicted"] == "relief")]
    assert cell["count"].item() == ((older["label"] == "relief") & (older["prediction"] == "relief")).sum()
    inter = confusion_by_group(str(path), (1, 3), ("age_group", "military_status"))
    assert "older american × servicemember" in set(inter["group"])
    rel = reliability(str(path), (1, 3), ("no_relief", "relief"))
    assert rel["rows"].sum() == len(frame) and (rel["confidence"] >= 0.5 - 1e-6).all()
    sweep = threshold_sweep(str(path), (1, 3), ("age_group",), "relief", THRESHOLDS)
    half = sweep[np.isclose(sweep["threshold"], 0.5)].set_index("group")
    for group, rows in frame.groupby("sf_age_group"):
        assert half.loc[group, "selection_rate"] == pytest.approx((rows["prediction"] == "relief").mean())
    assert half["impact_ratio"].max() == pytest.approx(1.0)
    assert half.loc["older american", "impact_ratio"] == pytest.approx(
        half.loc["older american", "selection_rate"] / half.loc["not older", "selection_rate"])
    only = threshold_sweep(str(path), (1, 3), ("age_group",), "relief", THRESHOLDS, excluded=("not older",))
    only = only[np.isclose(only["threshold"], 0.5)].set_index("group")
    assert bool(only.loc["not older", "small"]) and only.loc["older american", "impact_ratio"] == pytest.approx(1.0)


def test_heat_map_colours_follow_the_report():
    html = token_heatmap_html(["toward", "against"], [0.5, -0.5])
    toward, against = html.split("</span>")[:2]
    assert f"rgba({TOWARD_RGB}" in toward and f"rgba({AGAINST_RGB}" in against
    assert TOWARD_RGB == "41,128,185", "blue toward the prediction, like the report's tp* classes"


def test_numbers_are_rounded_like_the_report_and_tables_are_labelled():
    record = make_demo_record()
    frame = checks_frame(record).set_index("id")
    assert frame.loc["impact_ratio:age_group", "measured"] == "0.710"
    assert frame.loc["equalized_odds_difference:age_group", "status"] == "not run"
    card = labelled(record.model_card, "field")
    assert list(card.columns) == ["field", "value"] and "intended use" in set(card["field"])
    assert not any(str(v).startswith("{") for v in card["value"])


def test_compare_names_each_check_with_its_subject():
    changes = check_changes(make_demo_record(), make_demo_record())
    impact = changes[changes["id"].str.startswith("impact_ratio:")]
    assert len(impact) == 3 and impact["check"].is_unique
    assert any("age_group=older american" in c for c in impact["check"])


def test_lineage_lists_each_file_once():
    rows = lineage_rows(make_record())
    keys = [(r["path"], r["file sha256"]) for r in rows]
    assert len(keys) == len(set(keys))
    train = next(r for r in rows if r["path"] == "cfpb_payday_complaints.csv")
    assert train["role"] == "train"
    assert next(r for r in rows if r["path"] == "scrubbed.parquet")["role"] == "scrubbed"


def test_runs_list_puts_verdict_and_signoff_next_to_the_run():
    assert list(RUN_COLUMNS)[:3] == ["open", "verdict", "signoff"]


def test_check_target_maps_checks_to_tabs_and_groupings():
    record = make_demo_record()
    assert check_target(record, "impact_ratio:age_group × military_status").grouping == "age_group × military_status"
    assert check_target(record, "counterfactual_flip_rate:gender").tab == "Counterfactual"
    assert check_target(record, "macro_f1").tab == "Performance"
    assert check_target(record, "no-such-check") is None and check_target(record, "reviewer_signoff") is None


def test_failed_check_opens_its_grouping_with_charts_and_rows(demo_store):
    _, record = demo_store
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/run.py")
    at.query_params.update({"run": record.run_id, "check": "impact_ratio:military_status"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (grouping,) = [s for s in at.selectbox if s.label == "Sensitive feature or intersection"]
    assert grouping.value == "military_status"
    open_checks = at.dataframe[0].value
    assert "drill" in open_checks.columns
    assert all(link.endswith(f"check={cid}") for link, cid in zip(open_checks["drill"], open_checks["id"]))
    frames = [d.value for d in at.dataframe]
    rows = next(f for f in frames if "four-fifths" in f.columns)
    assert rows.set_index("label").loc["servicemember", "four-fifths"] == "fail"
    markdown = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "Confusion matrix per group of military_status" in markdown
    assert "Threshold what-if: military_status" in markdown
    assert "Distribution of P(relief) by military_status" in markdown
    assert any(s.label == "Decision threshold on P(favorable)" for s in at.slider)
    assert "Reliability diagram" not in markdown, "other tabs' panels wait for their toggle"
    open_tab(at, "Performance")
    assert "Reliability diagram" not in "\n".join(m.value for m in at.markdown).replace("\\", "")
    next(t for t in at.toggle if t.label == "Reliability diagram and confusion matrix").set_value(True).run()
    assert "Reliability diagram" in "\n".join(m.value for m in at.markdown).replace("\\", "")


def test_without_a_check_link_the_heavy_panels_wait_for_their_toggle(demo_store):
    _, record = demo_store
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/run.py")
    at.query_params.update({"run": record.run_id})
    at.run()
    markdown = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "Distribution of P(relief) by age_group" in markdown and "Threshold what-if" not in markdown
    next(t for t in at.toggle if t.label == "Confusion matrices and threshold what-if").set_value(True).run()
    assert "Threshold what-if: age_group" in "\n".join(m.value for m in at.markdown).replace("\\", "")


def test_static_tables_escape_record_text(tmp_path, monkeypatch):
    """st.table renders Markdown: a model card value with a link or markup must stay text."""
    from record_factory import HOSTILE, make_hostile_record

    store = RunStore(tmp_path / "runs")
    record = store.create(make_hostile_record())
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(store.root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/run.py")
    at.query_params.update({"run": record.run_id})
    at.run()
    assert not at.exception
    cells = [str(v) for tab in each_tab(at) for t in tab.table for v in t.value.to_numpy().ravel()]
    assert any("evil" in c for c in cells), "the hostile model card is shown"
    for cell in cells:
        assert not re.search(r"(?<!\\)[<\[\]()]", cell), f"unescaped Markdown/HTML in {cell!r}"
    assert HOSTILE[3] not in cells


def _run_page(record, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/run.py")
    at.query_params.update({"run": record.run_id, **query})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_only_the_open_tab_and_the_open_checks_go_to_the_browser(demo_store):
    """Lazy tabs and the lazy 'all checks' list: the first draw carries the verdict, the open checks and the
    Fairness tab, not the 85 counterfactual examples, the heat maps or the 31-row check list."""
    _, record = demo_store
    at = _run_page(record)
    markdown = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "Distribution of P(relief) by age_group" in markdown
    assert not at.text and not at.get("html"), "counterfactual examples and heat maps wait for their tab"
    assert [len(d.value) for d in at.dataframe if "drill" in d.value.columns] == [7], "only the open checks"
    at.session_state["all_checks"] = True
    at.run()
    assert sorted(len(d.value) for d in at.dataframe if "drill" in d.value.columns) == [7, 31]
    open_tab(at, "Counterfactual")
    assert len(at.text) == sum(len(f.worst_examples) for f in record.counterfactual.families + record.counterfactual.templates)
    assert "Distribution of P(relief)" not in "\n".join(m.value for m in at.markdown)


def test_a_check_link_opens_the_tab_of_its_evidence(demo_store):
    _, record = demo_store
    at = _run_page(record, check="counterfactual_flip_rate:gender")
    assert any(m.label.startswith("largest flip rate") for m in at.metric)
    assert not any(s.label == "Sensitive feature or intersection" for s in at.selectbox), "the Fairness tab is closed"
