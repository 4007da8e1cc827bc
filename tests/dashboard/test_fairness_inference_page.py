"""The dashboard's fairness tab shows the new statistics of a record from the real stage: LL144 2% exclusions apart
from small groups (with counts), differences / ratios against the reference with CIs, Fisher and permutation tests
with adjusted p-values; every status from audit.record.status."""
from __future__ import annotations

from pathlib import Path

import pytest
from record_factory import make_ll144_record
from streamlit.testing.v1 import AppTest

from audit.record.status import LABELS, evidence_level
from audit.record.store import RunStore
from dashboard.charts import EXCLUDED, LL144
from dashboard.screens.run import comparison_frame, disparity_tests_frame, grouping_frame, ll144_caption
from reports import pvalue

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def record():
    return make_ll144_record()


def test_grouping_frame_keeps_ll144_exclusion_apart_from_small(record):
    grouping = record.fairness.groupings[0]
    frame = grouping_frame(grouping, "selection_rate", record.policy).set_index("label")
    assert frame.loc["tiny", "flag"] == LL144 and frame.loc["tiny", "four-fifths"] == "excluded (ll144 < 2%)"
    assert frame.loc["rare", "flag"] == EXCLUDED and frame.loc["rare", "four-fifths"] == "excluded"
    assert frame.loc["tiny", "count"] == 35
    assert ll144_caption(grouping, record.policy) == ("Excluded under NYC LL144's 2% rule (not the reference, no "
                                                      "verdict): tiny (n=35, 1.8% of rows)")


def test_comparison_and_tests_frames_match_the_record(record):
    fairness = record.fairness
    grouping = fairness.groupings[0]
    frame = comparison_frame(grouping, fairness, record.policy)
    assert len(frame) == 15
    by = frame.set_index(["group", "rate"])
    black = grouping.groups[[g.group for g in grouping.groups].index("black")]
    row = by.loc[("black", "selection_rate")]
    d = black.differences["selection_rate"]
    assert row["difference"] == f"{d.value:.3f} [{d.ci_low:.3f}, {d.ci_high:.3f}]"
    assert row["Fisher p"] == pvalue(black.tests["selection_rate"].p_value) == "< 0.001"
    assert row["result"] == "disparity" and row["status"] == "fail"
    assert by.loc[("tiny", "tpr"), "status"] == "excluded (ll144 < 2%)"
    assert by.loc[("tiny", "tpr"), "result"] == "not tested"
    assert by.loc[("rare", "fpr"), "status"] == "excluded"
    tests = disparity_tests_frame(grouping, fairness).set_index("rate")
    assert list(tests.index) == list(grouping.tests)
    for metric, test in grouping.tests.items():
        assert tests.loc[metric, "adjusted p"] == pvalue(test.p_adjusted)
        assert tests.loc[metric, "result"] == LABELS[evidence_level(test, fairness.alpha)].lower()


def test_fairness_tab_renders_the_tables(record, tmp_path, monkeypatch):
    root = tmp_path / "runs"
    RunStore(root).create(record)
    monkeypatch.setenv("GOVAUDIT_RUNS_ROOT", str(root))
    monkeypatch.setenv("GOVAUDIT_REVIEWERS", str(root / "reviewers.json"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/run.py")
    at.query_params.update({"run": record.run_id})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tables = [t.value for t in at.table]
    comparison = next(t for t in tables if "Fisher p" in t.columns)
    assert len(comparison) == 15 and "disparity" in set(comparison["result"])
    tests = next(t for t in tables if "permutations" in t.columns)
    assert len(tests) == 4
    captions = "\n".join(str(c.value) for c in at.caption).replace("\\", "")
    assert "tiny (n=35, 1.8% of rows)" in captions
