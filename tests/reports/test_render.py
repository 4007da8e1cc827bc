"""The HTML/Markdown/JSON report and the run comparison, rendered from synthetic records (no model, fast)."""
from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from html_tree import cells, parse, section
from record_factory import (
    HOSTILE,
    SECTIONS,
    make_hostile_record,
    make_minimal_record,
    make_mitigated_record,
    make_record,
)

from audit.cli import main
from audit.record.store import RunStore
from reports import build_report, render_comparison, render_html, render_json, render_markdown
from reports._charts import Bar, interval_chart, token_classes

SECTION_ORDER = ["verdict", "model", "data", "performance", "fairness", "counterfactual", "attribution", "policy",
                 "signoff", "regulatory", "limits", "appendix"]
SECTION_OF = {"scrub": "data", "train": "data", "fairness": "fairness", "counterfactual": "counterfactual",
              "attribution": "attribution", "policy": "policy"}


@pytest.fixture(scope="module")
def full():
    record = make_record()
    page = render_html(record, "ab" * 32)
    return record, page, parse(page)


def test_full_report_has_every_section_in_order_with_verdict_first(full):
    record, _, root = full
    ids = [n.attrs["id"] for n in root.iter("section")]
    assert ids == SECTION_ORDER
    verdict = section(root, "verdict")
    assert verdict.find("span", id="verdict-status")[0].text() == record.policy.verdict
    findings = verdict.find("ul")[0].find("li")
    assert any("older american" in li.text() and "0.688" in li.text() for li in findings)
    assert not [p.text() for p in root.iter("p") if p.text().startswith("Not run:")]


def test_run_id_and_record_sha_are_embedded(full):
    record, _, root = full
    metas = {n.attrs.get("name"): n.attrs.get("content") for n in root.iter("meta")}
    assert metas["govaudit-run-id"] == record.run_id
    assert metas["govaudit-record-sha256"] == "ab" * 32
    assert root.find("code", id="record-sha256")[0].text() == "ab" * 32
    assert root.find("code", id="run-id")[0].text() == record.run_id


def test_default_sha_is_the_stored_record_digest(tmp_path):
    store = RunStore(tmp_path)
    record = store.create(make_record())
    stored = store.record_sha256(record.run_id)
    assert f'name="govaudit-record-sha256" content="{stored}"' in render_html(store.load(record.run_id), stored)
    assert build_report(record)["run"]["record_sha256"] == hashlib.sha256(record.to_json().encode()).hexdigest()


def test_self_contained_strict_csp_and_no_scripts(full):
    _, page, root = full
    (csp,) = [n.attrs["content"] for n in root.iter("meta") if n.attrs.get("http-equiv") == "Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'none'"
    assert directives["img-src"] == "data:"
    (style,) = list(root.iter("style"))
    digest = base64.b64encode(hashlib.sha256(style.text().encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"
    assert not list(root.iter("script")) and not list(root.iter("link")) and not list(root.iter("iframe"))
    assert "@import" not in style.text() and "url(" not in style.text()
    assert "@media print" in style.text() and "break-inside: avoid" in style.text()
    for node in root.iter():
        assert not any(k.startswith("on") for k in node.attrs), node
        assert "style" not in node.attrs, "inline style attributes would need 'unsafe-inline'"
        for key in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            value = node.attrs.get(key, "")
            assert not re.match(r"\s*(https?:|//|javascript:)", value, re.I), (node.tag, key, value)
        assert all(k == "xmlns" or "://" not in v for k, v in node.attrs.items() if k != "content"), node


def test_numbers_match_the_record(full):
    record, _, root = full
    perf = section(root, "performance")
    (test_table,) = perf.find("table", data_split="test split")
    values = {td.attrs["data-metric"]: float(td.attrs["data-value"]) for td in test_table.iter("td") if "data-metric" in td.attrs}
    assert values == {"accuracy": record.train.test.accuracy, "macro_f1": record.train.test.macro_f1,
                      "ece": record.train.test.ece}
    fair = section(root, "fairness")
    assert len(fair.find("table")) >= len(record.fairness.groupings)
    for grouping in record.fairness.groupings:
        (table,) = fair.find("table", data_grouping=grouping.name)
        assert ("intersectional" in table.attrs["class"]) == (len(grouping.features) > 1)
        rows = {tr.attrs["data-group"]: cells(tr) for tr in table.iter("tr") if "data-group" in tr.attrs}
        assert list(rows) == [g.group for g in grouping.groups]
        for group in grouping.groups:
            row = rows[group.group]
            assert int(row[1].attrs["data-value"]) == group.count
            assert float(row[3].attrs["data-value"]) == group.metrics["selection_rate"].value
            assert float(row[4].attrs["data-value"]) == group.impact_ratio.value
            assert row[4].text().startswith(f"{group.impact_ratio.value:.3f} [{group.impact_ratio.ci_low:.3f}")
            verdict = row[5].text().strip()
            assert verdict == ("excluded" if group.small or group.unknown else "pass" if group.four_fifths_pass else "fail")
        (metrics,) = fair.find("table", data_metrics_for=grouping.name)
        header = [th.text() for th in metrics.iter("th")]
        assert header == ["group", "base rate", "accuracy", "tpr", "fpr"]
        body = [cells(tr) for tr in metrics.iter("tr")][1:]
        assert [float(r[4].attrs["data-value"]) for r in body] == [g.metrics["fpr"].value for g in grouping.groups]
    charts = [n for n in fair.iter("svg")]
    assert len(charts) == 2 * len(record.fairness.groupings)
    ratio_chart = charts[1]
    assert any(line.attrs.get("stroke-dasharray") == "6 4" for line in ratio_chart.iter("line")), "no 0.8 line"
    assert len(ratio_chart.find("path")) >= 3, "no CI whiskers"
    data = section(root, "data")
    counts = [int(td.attrs["data-value"]) for t in data.find("table") if "scrub-counts" in t.attrs.get("class", "")
              for td in t.iter("td") if "data-value" in td.attrs]
    assert counts == list(record.scrub.counts["narrative"].values())
    checks = {tr.attrs["data-check"]: cells(tr)[1].text() for tr in section(root, "policy").iter("tr") if "data-check" in tr.attrs}
    assert checks == {c.id: c.status.replace("_", " ") for c in record.policy.checks}


@pytest.mark.parametrize("missing", SECTIONS)
def test_each_missing_section_says_not_run(missing):
    record = make_record(missing=(missing,))
    root = parse(render_html(record))
    assert [n.attrs["id"] for n in root.iter("section")] == SECTION_ORDER
    node = section(root, SECTION_OF[missing])
    assert "Not run" in node.text()
    regmap = section(root, "regulatory").text()
    assert ("not run" in regmap) == (missing in ("fairness", "counterfactual", "attribution", "policy"))


def test_minimal_record_renders_everything_as_not_run():
    record = make_minimal_record()
    root = parse(render_html(record))
    assert root.find("span", id="verdict-status")[0].text() == "not evaluated"
    for key in ("model", "data", "performance", "fairness", "counterfactual", "attribution", "policy"):
        assert "Not run" in section(root, key).text(), key
    assert root.find("p", id="no-signoff")
    statuses = {tr.text() for tr in section(root, "regulatory").iter("tr")}
    assert all("evidence present" not in s for s in statuses)
    md = render_markdown(record)
    assert "NOT EVALUATED" in md and "_Not run: fairness audit._" in md
    assert json.loads(render_json(record))["verdict"]["status"] == "not evaluated"


def test_hostile_strings_render_as_text_only():
    record = make_hostile_record()
    page = render_html(record)
    root = parse(page)
    assert not list(root.iter("script")) and not list(root.iter("img"))
    assert all(a.attrs["href"].startswith("#") for a in root.iter("a"))
    assert len(list(root.iter("style"))) == 1 and len(list(root.iter("svg"))) == 2 * 3 + 1
    for node in root.iter():
        assert not any(k.startswith("on") for k in node.attrs), node
    text = root.text()
    for hostile in HOSTILE:
        assert hostile in text, hostile
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    labels = [t.text() for svg in root.iter("svg") for t in svg.iter("title")]
    assert any(HOSTILE[1] in label for label in labels), "SVG labels must hold the escaped text"
    assert "{{" not in page and "sha256-" in page


def test_markdown_escapes_markup_links_and_pipes():
    md = render_markdown(make_hostile_record())
    assert "<script" not in md and "<img" not in md and "<svg" not in md and "<a " not in md
    assert not re.search(r"(?<!\\)\]\(", md) and "https://" not in md, "a live Markdown link or autolink"
    blocks, current = [], []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            current.append(len(re.findall(r"(?<!\\)\|", line)))
        elif current:
            blocks.append(current)
            current = []
    assert len(blocks) >= 8
    assert all(len(set(block)) == 1 for block in blocks), "an unescaped pipe broke a table row"
    assert "\\[click\\]" in md and "\\| pipe" in md


def test_markdown_and_json_carry_the_same_content():
    record = make_record()
    md = render_markdown(record, "cd" * 32)
    content = json.loads(render_json(record, "cd" * 32))
    assert content["run"]["record_sha256"] == "cd" * 32 and "cd" * 32 in md
    assert content["verdict"]["status"] == "fail" and "**FAIL**" in md
    for finding in content["findings"]:
        assert finding["text"].replace("_", "\\_").replace("[", "\\[").replace("]", "\\]") in md
    assert content["record"]["fairness"] == json.loads(record.fairness.model_dump_json())
    for grouping in record.fairness.groupings:
        for group in grouping.groups:
            assert f"{group.impact_ratio.value:.3f}" in md
    assert [r["provision"] for r in content["regulatory_map"]][:1] == ["EU AI Act Art. 10(2)(f)-(g), 10(5)"]
    assert any("NYC Local Law 144" in r["provision"] for r in content["regulatory_map"])
    assert content["not_established"] and content["texts_shown"] is True


@pytest.mark.parametrize("variant", ["no_scrub", "waiver", "residual_failed", "turned_off"])
def test_example_texts_are_withheld_unless_scrubbed(variant):
    record = make_record(missing=("scrub",) if variant == "no_scrub" else (), waiver=variant == "waiver")
    if variant == "residual_failed":
        record.scrub.residual.passed = False
        record.scrub.residual.found = {"PERSON": 2}
    text = "refund of the rollover fee"
    assert text in record.counterfactual.families[0].worst_examples[0].original
    page = render_html(record, include_texts=False if variant == "turned_off" else None)
    assert text not in page and "veteran" not in page
    assert "Example texts withheld" in page
    assert text not in render_markdown(record, include_texts=False if variant == "turned_off" else None)
    assert text not in render_json(record, include_texts=False if variant == "turned_off" else None)
    assert text in render_html(make_record())


def test_signoff_history_and_stale_signatures():
    record = make_record()
    decisions = [{"reviewer": "risk-officer", "decision": "approve", "comment": "<b>looks fine</b>",
                  "created_at": "2025-01-03T09:00:00+00:00", "record_sha256": "ab" * 32},
                 {"reviewer": "auditor", "decision": "reject", "comment": "CI too wide",
                  "created_at": "2025-01-02T09:00:00+00:00", "record_sha256": "ff" * 32}]
    root = parse(render_html(record, "ab" * 32, signoffs=decisions, ledger_problems=["entry 2 was edited"]))
    rows = [cells(tr) for tr in section(root, "signoff").iter("tr")][1:]
    assert [r[1].text() for r in rows] == ["auditor", "risk-officer"]
    assert rows[0][5].text() == "a different version of the record" and rows[1][5].text() == "this record"
    assert rows[1][4].text() == "<b>looks fine</b>"
    assert "entry 2 was edited" in root.find("p", id="ledger-problems")[0].text()


def test_comparison_reports_deltas_and_verdict_change():
    before, after = make_record(), make_mitigated_record()
    root = parse(render_comparison(before, after))
    assert "fail → warn" in root.find("p", id="verdict-change")[0].text()
    deltas = {tr.attrs["data-metric"]: float(cells(tr)[3].attrs["data-value"])
              for tr in root.iter("tr") if "data-metric" in tr.attrs}
    assert deltas["accuracy"] == pytest.approx(after.train.test.accuracy - before.train.test.accuracy)
    assert deltas["max_flip_rate"] == pytest.approx(after.counterfactual.max_flip_rate - before.counterfactual.max_flip_rate)
    content = json.loads(render_comparison(before, after, fmt="json"))
    older = next(g for g in content["groups"] if g["group"] == "older american")
    assert older["four_fifths"] == {"before": False, "after": True} and older["changed"]
    assert older["impact_ratio"]["delta"] == pytest.approx(
        after.fairness.groupings[0].groups[1].impact_ratio.value - before.fairness.groupings[0].groups[1].impact_ratio.value)
    md = render_comparison(before, after, fmt="md")
    assert "fail → **warn** (changed)" in md and "fail → pass" in md
    empty = parse(render_comparison(make_minimal_record(), make_minimal_record("20250102T130001Z-000001")))
    assert "Not run" in empty.text()


def test_chart_escapes_labels_and_token_classes_scale():
    svg = interval_chart([Bar('<x onload="y">', 0.5, 0.4, 0.6, "bad")], title="<t>", axis_label="a&b", threshold=0.8)
    assert "<x " not in svg and "&lt;x onload=&#34;y&#34;&gt;" in svg and "&lt;t&gt;" in svg and "a&amp;b" in svg
    assert token_classes([0.5, -0.25, 0.0, 0.05, float("nan")]) == ["tp5", "tn3", "t0", "tp1", "t0"]
    assert token_classes([]) == [] and token_classes([0.0]) == ["t0"]


def test_cli_writes_reports_and_rejects_bad_input(tmp_path, capsys):
    store = RunStore(tmp_path / "runs")
    first, second = store.create(make_record()), store.create(make_mitigated_record())
    root = str(store.root)
    assert main(["report", first.run_id, "--runs-root", root]) == 0
    page = (store.run_dir(first.run_id) / "report.html").read_text()
    assert f'content="{store.record_sha256(first.run_id)}"' in page
    assert main(["report", first.run_id, "--runs-root", root, "--format", "md", "--out", "-"]) == 0
    assert f"`{store.record_sha256(first.run_id)}`" in capsys.readouterr().out
    out = tmp_path / "cmp.json"
    assert main(["report", second.run_id, "--runs-root", root, "--compare", first.run_id, "-f", "json", "-o", str(out)]) == 0
    cmp = json.loads(out.read_text())
    assert cmp["before"]["run_id"] == first.run_id and cmp["after"]["record_sha256"] == store.record_sha256(second.run_id)
    assert main(["report", "no-such-run", "--runs-root", root]) == 2
    assert main(["report", first.run_id, "--runs-root", root, "--format", "pdf"]) == 2
    assert main(["report", "../etc", "--runs-root", root]) == 2
    assert main(["report", first.run_id, "--runs-root", root, "-f", "md", "--pdf"]) == 2


def test_cli_shows_signoffs_from_the_ledger(tmp_path):
    from audit.record.signoff import SignoffLedger

    store = RunStore(tmp_path / "runs")
    record = store.create(make_record())
    sha = store.record_sha256(record.run_id)
    from audit.record.signoff import signoff_subject_sha256

    ledger = SignoffLedger(store)
    ledger.sign(record.run_id, sha, "approve", "checked the four-fifths CI", "risk-officer")
    ledger.sign(record.run_id, signoff_subject_sha256(record), "request_changes", "CI too wide", "auditor")
    ledger.sign(record.run_id, "0" * 64, "reject", "old numbers", "auditor")
    assert main(["report", record.run_id, "--runs-root", str(store.root)]) == 0
    root = parse((store.run_dir(record.run_id) / "report.html").read_text())
    rows = [cells(tr) for tr in section(root, "signoff").iter("tr")][1:]
    assert [(r[1].text(), r[3].text(), r[5].text()) for r in rows] == [
        ("risk-officer", "approve", "this record"), ("auditor", "request_changes", "this record"),
        ("auditor", "reject", "a different version of the record")]
    assert root.find("code", id="evidence-sha256")[0].text() == signoff_subject_sha256(record)
    assert not root.find("p", id="ledger-problems")


def test_many_groups_chart_is_capped_but_table_is_complete():
    from audit.record import Estimate
    from reports._model import CHART_MAX_BARS

    record = make_record()
    inter = record.fairness.groupings[-1]
    inter.groups = [inter.groups[0].model_copy(update={"group": f"g{i}", "impact_ratio": Estimate(value=1 - i / 200)})
                    for i in range(120)]
    inter.reference_group = "g0"
    fair = section(parse(render_html(record)), "fairness")
    (table,) = fair.find("table", data_grouping=inter.name)
    assert len([tr for tr in table.iter("tr") if "data-group" in tr.attrs]) == 120
    ratio_svg = list(fair.iter("svg"))[-1]
    labels = [g.children[0].text() for g in ratio_svg.iter("g")]
    assert len(labels) == CHART_MAX_BARS and labels[0].startswith("g0 ") and labels[-1].startswith("g119 ")
    assert f"Charts show {CHART_MAX_BARS} of 120 groups" in fair.text()


def test_worst_examples_highlight_the_swapped_words_and_show_term_direction():
    record = make_record()
    example = record.counterfactual.families[0].worst_examples[0]
    example.original = "He asked <b>x</b> for a refund."
    example.swapped = "She asked <b>x</b> for a refund."
    example.original_spans, example.swapped_spans = [(0, 2)], [(0, 3)]
    record.counterfactual.families[0].direction[0].toward = "relief"
    root = parse(render_html(record))
    marks = [m.text() for m in section(root, "counterfactual").iter("mark")]
    assert marks[:2] == ["He", "She"]
    assert "<b>x</b>" in section(root, "counterfactual").text()  # the rest of the text is escaped, not markup
    assert "she → relief" in section(root, "counterfactual").text()


def test_worst_examples_show_each_swap_inline_in_one_text():
    """One text per example: the original words struck through, then the swapped-in words; the swapped text is the
    original with each span replaced, so both texts are still there. Texts that differ elsewhere are shown whole."""
    from reports._model import EXCERPT_CONTEXT, swap_segments

    record = make_record()
    example = record.counterfactual.families[0].worst_examples[0]
    example.original, example.swapped = "He said he is old.", "She said she is old."
    example.original_spans, example.swapped_spans = [(0, 2), (8, 10)], [(0, 3), (9, 12)]
    segments = swap_segments(example)
    assert "".join(s + o for s, o, _ in segments) == example.original
    assert "".join(s + n for s, _, n in segments) == example.swapped
    rows = [cells(tr) for tr in section(parse(render_html(record)), "counterfactual").iter("tr") if tr.find("mark")]
    first = rows[0][1]
    assert [(m.attrs["class"], m.text()) for m in first.iter("mark")] == [
        ("from", "He"), ("to", "She"), ("from", "he"), ("to", "she")]
    assert first.text() == "HeShe said heshe is old."
    other = record.counterfactual.families[0].worst_examples[0].model_copy(update={"swapped": "She told she is old."})
    assert swap_segments(other) is None
    long = "word " * 200  # a 1,000-character narrative: an excerpt around the swap, the full text in the JSON
    example.original, example.swapped = f"{long}older{long}", f"{long}younger{long}"
    example.original_spans, example.swapped_spans = [(1000, 1005)], [(1000, 1007)]
    (head, old, new), (tail, _, _) = swap_segments(example)
    assert (old, new) == ("older", "younger") and head.startswith("… ") and tail.endswith(" …")
    assert len(head) <= EXCERPT_CONTEXT + 5 and len(tail) <= EXCERPT_CONTEXT + 5
    assert example.original in json.loads(render_json(record))["record"]["counterfactual"]["families"][0][
        "worst_examples"][0]["original"]
