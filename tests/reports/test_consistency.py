"""Every status the report shows twice comes from one place (audit.record.status on record.policy): the summary lines,
the policy table, the fairness table, the counts above them and the counterfactual headline agree. Parses the HTML."""
from __future__ import annotations

import json
import re

import pytest
from html_tree import cells, parse, section
from record_factory import make_demo_record

from audit.record import Estimate
from audit.record.status import check_level, group_status, level_counts, max_flip
from reports import render_html, render_markdown


@pytest.fixture(scope="module")
def demo():
    record = make_demo_record(worst_per_family=1)
    return record, parse(render_html(record, "ab" * 32))


def _policy_levels(root) -> dict[str, str]:
    return {tr.attrs["data-check"]: cells(tr)[1].attrs["data-level"]
            for tr in section(root, "policy").iter("tr") if "data-check" in tr.attrs}


def _group_levels(root) -> dict[tuple[str, str], str]:
    out = {}
    for table in section(root, "fairness").find("table"):
        if "data-grouping" not in table.attrs:
            continue
        for tr in table.iter("tr"):
            if "data-group" in tr.attrs:
                out[(table.attrs["data-grouping"], tr.attrs["data-group"])] = cells(tr)[5].attrs["data-level"]
    return out


def _summary_items(root) -> list:
    return [li for li in section(root, "verdict").iter("li") if "data-level" in li.attrs]


def test_policy_table_levels_are_the_check_levels_and_not_run_is_never_warn(demo):
    record, root = demo
    levels = _policy_levels(root)
    assert levels == {c.id: check_level(c) for c in record.policy.checks}
    not_run = [c for c in record.policy.checks if c.status == "not_run"]
    assert not_run and all(c.effect == "warn" for c in not_run), "demo needs not-run checks that count as warnings"
    assert all(levels[c.id] == "not-run" for c in not_run)


def test_counts_above_the_findings_match_the_badges_below(demo):
    record, root = demo
    counts = {span.attrs["data-level"]: int(span.text().split()[0])
              for span in root.find("span", id="check-counts")[0].iter("span") if "data-level" in span.attrs}
    assert counts == level_counts(record.policy)
    table = list(_policy_levels(root).values())
    assert counts == {level: table.count(level) for level in counts}
    summary = _summary_items(root)
    for level in ("not-run",):
        assert sum(li.attrs["data-level"] == level and "data-check" in li.attrs for li in summary) == counts[level]
    policy_warns = [li for li in summary if li.attrs.get("data-check") and li.attrs["data-level"] == "warn"]
    assert len(policy_warns) == counts["warn"]


def test_every_summary_line_has_the_level_of_its_check_and_of_its_group_row(demo):
    _, root = demo
    checks, groups = _policy_levels(root), _group_levels(root)
    lines = [li for li in _summary_items(root) if "data-check" in li.attrs]
    assert lines
    for li in lines:
        assert li.attrs["data-level"] == checks[li.attrs["data-check"]], li.text()
        if "data-group" in li.attrs:
            assert li.attrs["data-level"] == groups[(li.attrs["data-grouping"], li.attrs["data-group"])], li.text()
    ids = {n.attrs["id"] for n in root.iter() if "id" in n.attrs}
    for li in section(root, "verdict").find("ul", id="findings-open")[0].iter("li"):
        (link,) = li.find("a")
        assert link.attrs["href"][1:] in ids, f"{li.text()} links to a missing anchor"


def test_worst_group_of_each_failed_impact_check_is_fail_everywhere(demo):
    """The demo's age_group check fails on the point estimate while its CI reaches 0.8: one status, FAIL, in every
    place (it used to be FAIL on the policy line and WARN on the fairness line)."""
    record, root = demo
    groups = _group_levels(root)
    failed = [c for c in record.policy.checks if c.id.startswith("impact_ratio:") and c.status == "fail"]
    assert any(c.ci_high is not None and c.ci_high >= 0.8 for c in failed)
    for check in failed:
        grouping, group = check.subject.split("=", 1)
        assert groups[(grouping, group)] == "fail"
        (li,) = [li for li in _summary_items(root) if li.attrs.get("data-group") == group
                 and li.attrs.get("data-grouping") == grouping]
        assert li.attrs["data-level"] == "fail" and li.attrs["data-check"] == check.id


def test_group_status_follows_the_checks_basis_and_waiver(demo):
    record, _ = demo
    grouping = record.fairness.groupings[0]
    group = next(g for g in grouping.groups if g.group == "older american")
    check = next(c for c in record.policy.checks if c.id == "impact_ratio:age_group")
    assert group_status(record.policy, grouping, group).level == "fail"
    check.basis, check.status = "CI lower bound", "fail"
    assert group_status(record.policy, grouping, group).compared == group.impact_ratio.ci_low
    check.status, check.effect, check.waiver = "warn", "warn", "RISK-1 until 2030-01-01"
    status = group_status(record.policy, grouping, group)
    assert status.level == "warn" and status.waived
    group.impact_ratio = Estimate(value=0.9, ci_low=0.7, ci_high=1.1)
    check.basis = "point estimate"
    assert group_status(record.policy, grouping, group).level == "pass"


def test_flip_rate_headline_is_the_counterfactual_sections_number(demo):
    record = demo[0]
    assert record.counterfactual.max_flip_rate == 0.152
    assert max(f.flip_rate.value for f in record.counterfactual.families) == 0.152
    record_tmpl = make_demo_record(worst_per_family=1)
    record_tmpl.counterfactual.families[8].flip_rate = Estimate(value=0.079)  # the highest now sits in a template
    page = parse(render_html(record_tmpl))
    headline = section(page, "counterfactual").find("b", id="max-flip-rate")[0].text()
    (line,) = [li.text() for li in _summary_items(page) if li.attrs.get("data-section") == "counterfactual"]
    assert headline == "15.2%" and f"flip {headline} of decisions at most" in line
    assert max_flip(record_tmpl.counterfactual).family == "templates:race"


def test_markdown_counts_and_four_fifths_column_use_the_same_levels(demo):
    record = demo[0]
    text = render_markdown(record)
    c = level_counts(record.policy)
    assert f"{c['fail']} failed, {c['warn']} warned, {c['not-run']} not run, {c['pass']} passed" in text
    assert "**NOT RUN**" in text and not re.search(r"\*\*WARN\*\* \(policy\) Equalized odds", text)


def test_comparison_shows_the_status_sources_levels_not_the_records_flag():
    """The run comparison's four-fifths column has the level every other view shows (audit.record.status): a waived
    check is WARN, and a policy minimum above 0.8 fails a group the record's own flag (point >= 0.8) passes."""
    from reports import render_comparison

    before, after = make_demo_record(worst_per_family=1), make_demo_record(worst_per_family=1)
    waived = next(c for c in after.policy.checks if c.id == "impact_ratio:age_group")
    waived.status, waived.effect, waived.waiver = "warn", "warn", "RISK-1 until 2030-01-01"
    strict = next(c for c in after.policy.checks if c.id == "impact_ratio:age_group × military_status")
    strict.threshold = 0.95
    content = json.loads(render_comparison(before, after, fmt="json"))
    rows = {(g["grouping"], g["group"]): g for g in content["groups"]}
    expected = {}
    for side, record in (("before", before), ("after", after)):
        for grouping in record.fairness.groupings:
            for group in grouping.groups:
                level = group_status(record.policy, grouping, group).level
                expected[(grouping.name, group.group, side)] = level
                assert rows[(grouping.name, group.group)]["status"][side] == level
    assert expected[("age_group", "older american", "after")] == "warn"
    lenient = after.fairness.groupings[2].groups[2]
    assert lenient.four_fifths_pass and expected[("age_group × military_status", lenient.group, "after")] == "fail"
    page = parse(render_comparison(before, after))
    shown = {}
    for tr in section(page, "groups").iter("tr"):
        tds = cells(tr)
        if len(tds) == 5:
            levels = [span.attrs["data-level"] for span in tds[4].iter("span") if "data-level" in span.attrs]
            shown[(tds[0].text(), tds[1].text())] = levels
    assert shown[("age_group", "older american")] == ["fail", "warn"]
    assert shown[("age_group × military_status", lenient.group)] == ["pass", "fail"]
    text = render_comparison(before, after, fmt="md")
    assert re.search(r"\| age\\_group \| older american \|[^\n]*\| fail → warn \|", text)
