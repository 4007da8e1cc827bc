"""The report shows the new fairness statistics of a record from the real stage: LL144 2% exclusions apart from small
groups (with counts), per-group differences and ratios against the stated reference with CIs, the per-group Fisher
tests and the per-grouping permutation tests with raw and adjusted p-values; every status from audit.record.status."""
from __future__ import annotations

import pytest
from html_tree import cells, parse, section
from record_factory import make_ll144_record

from audit.record.status import LABELS, evidence_level, group_status
from reports import pvalue, render_html


@pytest.fixture(scope="module")
def rendered():
    record = make_ll144_record()
    return record, record.fairness.groupings[0], section(parse(render_html(record, "cd" * 32)), "fairness")


def test_ll144_exclusion_is_shown_apart_from_small_groups_with_its_counts(rendered):
    record, grouping, fair = rendered
    (table,) = fair.find("table", data_grouping="race")
    rows = {tr.attrs["data-group"]: tr for tr in table.iter("tr") if "data-group" in tr.attrs}
    tiny, rare = cells(rows["tiny"]), cells(rows["rare"])
    assert tiny[5].attrs["data-level"] == "ll144" and "under 2% (LL144)" in tiny[5].text()
    assert "under 2% of rows" in tiny[6].text() and int(tiny[1].attrs["data-value"]) == 35
    assert rare[5].attrs["data-level"] == "excluded" and rare[5].text().strip() == "excluded"
    assert "small group" in rare[6].text() and "LL144" not in rare[6].text()
    assert rows["tiny"].attrs["class"] == "row-ll144" and rows["rare"].attrs["class"] == "row-small"
    (note,) = fair.find("p", data_excluded_for="race")
    assert "tiny" in note.text() and "1.8% of rows" in note.text() and "rare" not in note.text()
    assert [n.attrs["data-value"] for n in note.iter("span") if "data-value" in n.attrs] == ["35"]
    assert fair.find("b", **{"class": "reference-group"})[0].text() == grouping.reference_group == "rare"
    verdict = section(parse(render_html(record, "cd" * 32)), "verdict")
    assert any("2% rule" in li.text() and "race = tiny (n=35, 1.8%)" in li.text() for li in verdict.iter("li"))


def test_differences_ratios_and_fisher_tests_match_the_record(rendered):
    record, grouping, fair = rendered
    (table,) = fair.find("table", data_comparison_for="race")
    assert "reference group rare" in table.find("caption")[0].text()
    rows = {(tr.attrs["data-cmp-group"], tr.attrs["data-cmp-metric"]): tr
            for tr in table.iter("tr") if "data-cmp-group" in tr.attrs}
    assert len(rows) == sum(len(g.differences) for g in grouping.groups) == 15
    for group in grouping.groups:
        for metric, difference in group.differences.items():
            tr = rows[(group.group, metric)]
            row = cells(tr)
            assert tr.attrs["data-level"] == group_status(record.policy, grouping, group).level
            assert row[3].attrs["data-value"] == str(difference.value)
            if difference.ci_low is not None:
                assert row[3].text() == f"{difference.value:.3f} [{difference.ci_low:.3f}, {difference.ci_high:.3f}]"
            assert row[4].attrs["data-value"] == str(group.ratios[metric].value)
            test = group.tests[metric]
            assert row[5].text() == pvalue(test.p_value) and row[6].text() == pvalue(test.p_adjusted)
            level = evidence_level(test, record.fairness.alpha)
            assert row[7].attrs["data-level"] == level and row[7].text() == LABELS[level].lower()
    black = cells(rows[("black", "selection_rate")])
    assert black[7].attrs["data-level"] == "evidence" and black[3].text().startswith("-0.250 [")
    assert cells(rows[("tiny", "selection_rate")])[7].attrs["data-level"] == "not-tested"
    assert "LL144" in cells(rows[("tiny", "tpr")])[0].text() and "(small)" in cells(rows[("rare", "tpr")])[0].text()


def test_permutation_tests_of_any_disparity_with_adjusted_p_values(rendered):
    record, grouping, fair = rendered
    (table,) = fair.find("table", data_tests_for="race")
    assert "holm-adjusted" in table.find("caption")[0].text()
    rows = {tr.attrs["data-test"]: cells(tr) for tr in table.iter("tr") if "data-test" in tr.attrs}
    assert list(rows) == list(grouping.tests) == ["selection_rate", "tpr", "fpr", "equalized_odds"]
    for metric, test in grouping.tests.items():
        row = rows[metric]
        assert float(row[5].attrs["data-value"]) == test.p_value
        assert float(row[6].attrs["data-value"]) == test.p_adjusted
        assert int(row[4].text().replace(",", "")) == test.n_perm == 200 and int(row[3].text()) == test.n_groups == 3
        assert row[7].attrs["data-level"] == evidence_level(test, record.fairness.alpha) == "evidence"
        assert row[7].text().strip() == "disparity"


def test_markdown_summary_names_the_ll144_status():
    from reports import render_markdown

    text = render_markdown(make_ll144_record(), "cd" * 32)
    (tiny,) = [line for line in text.splitlines() if line.startswith("| tiny |")]
    (rare,) = [line for line in text.splitlines() if line.startswith("| rare |")]
    assert "excluded: under 2% (LL144)" in tiny and "LL144" not in rare and "excluded" in rare
