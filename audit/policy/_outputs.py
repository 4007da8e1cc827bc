"""Gate outputs for people and CI systems: one-line summary, JUnit XML, Markdown, JSON."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from audit.core.text import neutralise
from audit.record import CheckResult, PolicySection

__all__ = ["summary_lines", "junit_xml", "markdown_summary", "json_payload", "ledger_line"]

_LABEL = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "not_run": "NOT RUN"}
_VERDICT = {"pass": "passed", "warn": "passed with warnings", "fail": "BLOCKED"}


def _counts(section: PolicySection) -> dict[str, int]:
    return {status: sum(c.status == status for c in section.checks) for status in _LABEL}


def _line(check: CheckResult) -> str:
    waived = f" [waived: {check.waiver}]" if check.waiver else ""
    effect = " (blocks)" if check.effect == "block" else ""
    return neutralise(f"{_LABEL[check.status]}{effect} {check.id}: {check.evidence}{waived}")


def ledger_line(section: PolicySection) -> str | None:
    """The sign-off ledger's head as the gate saw it (CI logs keep it: an anchor outside the run store)."""
    ledger = section.signoff_ledger
    if ledger is None:
        return None
    if not ledger.intact:
        return f"sign-off ledger BROKEN ({ledger.entries} entries): no approval counts: " + "; ".join(ledger.problems)
    return (f"sign-off ledger intact: {ledger.entries} entries, head {ledger.head} "
            f"(check later: govaudit dashboard verify-ledger --expect-head {ledger.head})")


def summary_lines(section: PolicySection, run_id: str) -> list[str]:
    """Verdict line, then one line per check that blocks or warns, then expired waivers."""
    counts = _counts(section)
    lines = [f"gate {_VERDICT[section.verdict]}: run {run_id}, policy {section.policy_name!r} — "
             + ", ".join(f"{n} {_LABEL[s].lower()}" for s, n in counts.items() if n)]
    lines += [_line(c) for c in section.checks if c.effect == "block"]
    lines += [_line(c) for c in section.checks if c.effect == "warn"]
    lines += [f"EXPIRED WAIVER {text}" for text in section.expired_waivers]
    if (ledger := ledger_line(section)) is not None:
        lines.append(ledger)
    return lines


def junit_xml(section: PolicySection, run_id: str) -> str:
    """One <testcase> per check: <failure> when it blocks, <skipped> when not run (and not blocking)."""
    counts = _counts(section)
    failures = sum(c.effect == "block" for c in section.checks)
    skipped = sum(c.status == "not_run" and c.effect != "block" for c in section.checks)
    suites = ET.Element("testsuites", name="govaudit gate", tests=str(len(section.checks)), failures=str(failures),
                        errors="0", skipped=str(skipped), time="0")
    suite = ET.SubElement(suites, "testsuite", name=f"govaudit policy {section.policy_name}",
                          tests=str(len(section.checks)), failures=str(failures), errors="0", skipped=str(skipped),
                          time="0", timestamp=section.evaluated_at[:19])
    props = ET.SubElement(suite, "properties")
    for name, value in (("run_id", run_id), ("policy_sha256", section.policy_sha256), ("verdict", section.verdict),
                        *((f"count_{s}", str(n)) for s, n in counts.items()),
                        *((("signoff_ledger_head", section.signoff_ledger.head),
                           ("signoff_ledger_entries", str(section.signoff_ledger.entries)),
                           ("signoff_ledger_intact", str(section.signoff_ledger.intact).lower()))
                          if section.signoff_ledger else ())):
        ET.SubElement(props, "property", name=name, value=value)
    for check in section.checks:
        case = ET.SubElement(suite, "testcase", name=check.id, classname=f"govaudit.policy.{section.policy_name}",
                             time="0")
        detail = "\n".join(f"{k}: {neutralise(v)}" for k, v in (("title", check.title), ("measured", check.measured),
                                                     ("threshold", check.threshold), ("basis", check.basis),
                                                     ("severity", check.severity), ("source", check.source),
                                                     ("waiver", check.waiver)) if v not in (None, ""))
        if check.effect == "block":
            failure = ET.SubElement(case, "failure", message=neutralise(check.evidence), type=f"policy.{check.status}")
            failure.text = detail
        elif check.status == "not_run":
            ET.SubElement(case, "skipped", message=neutralise(check.evidence))
        out = ET.SubElement(case, "system-out")
        out.text = f"{check.status}: {neutralise(check.evidence)}\n{detail}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "–"
    text = f"{value:.3f}" if isinstance(value, float) else neutralise(value)
    text = text.replace("://", ":\\/\\/")  # no autolinks
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def markdown_summary(section: PolicySection, run_id: str) -> str:
    """GitHub-flavoured Markdown for a job summary ($GITHUB_STEP_SUMMARY) or a PR comment."""
    icon = {"pass": "✅", "warn": "⚠️", "fail": "❌", "not_run": "⏭️"}
    lines = [f"## {icon[section.verdict]} govaudit gate: {_VERDICT[section.verdict]}", "",
             f"Run `{run_id}` · policy **{_cell(section.policy_name)}** (sha256 `{section.policy_sha256[:12]}`) · "
             f"evaluated {section.evaluated_at}", "",
             "| | Check | Measured | Threshold | Evidence |", "|---|---|---|---|---|"]
    order = {"block": 0, "warn": 1, "none": 2}
    for check in sorted(section.checks, key=lambda c: order.get(c.effect, 3)):
        waived = f" (waived: {_cell(check.waiver)})" if check.waiver else ""
        blocks = " (blocks)" if check.status == "not_run" and check.effect == "block" else ""
        lines.append(f"| {icon[check.status]} {check.status}{blocks} | `{check.id}` | {_cell(check.measured)} | "
                     f"{_cell(check.threshold)} | {_cell(check.evidence)}{waived} |")
    if section.expired_waivers:
        lines += ["", "**Expired waivers (ignored):**", *[f"- {_cell(w)}" for w in section.expired_waivers]]
    if (ledger := ledger_line(section)) is not None:
        lines += ["", _cell(ledger)]
    return "\n".join(lines) + "\n"


def json_payload(section: PolicySection, run_id: str, exit_code: int) -> dict[str, Any]:
    return {"run_id": run_id, "exit_code": exit_code, **json.loads(section.model_dump_json())}
