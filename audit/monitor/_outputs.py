"""Monitor outputs for people and schedulers: summary lines, JUnit XML, Markdown (like the gate's)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from audit.record import MonitoringSection

__all__ = ["summary_lines", "junit_xml", "markdown_summary"]

_ICON = {"ok": "✅", "warn": "⚠️", "alert": "🚨"}


def _alert_line(alert) -> str:
    subject = f" [{alert.subject}]" if alert.subject else ""
    return f"{alert.severity.upper()} {alert.window} {alert.check}{subject}: {alert.evidence}"


def summary_lines(section: MonitoringSection, run_id: str) -> list[str]:
    active = [a for a in section.alerts if a.active]
    judged = sum(not w.small for w in section.windows)
    lines = [f"monitor {section.status}: run {run_id}, policy {section.policy_name!r}, {len(section.windows)} window(s) "
             f"of {section.window} ({judged} judged), {len(active)} active / {len(section.alerts)} total finding(s)"]
    lines += [_alert_line(a) for a in active if a.severity == "alert"]
    lines += [_alert_line(a) for a in active if a.severity == "warn"]
    return lines


def junit_xml(section: MonitoringSection, run_id: str) -> str:
    """One <testcase> per window and check; <failure> for an active alert-severity finding."""
    cases = [(w, c) for w in section.windows for c in w.checks]
    active = {(a.window, a.check, a.subject) for a in section.alerts if a.active and a.severity == "alert"}
    failures = sum((w.key, c.id, c.subject) in active for w, c in cases)
    skipped = sum(c.status == "skipped" for _, c in cases)
    suites = ET.Element("testsuites", name="govaudit monitor", tests=str(len(cases)), failures=str(failures),
                        errors="0", skipped=str(skipped), time="0")
    suite = ET.SubElement(suites, "testsuite", name=f"govaudit monitor {section.policy_name}", tests=str(len(cases)),
                          failures=str(failures), errors="0", skipped=str(skipped), time="0",
                          timestamp=section.evaluated_at[:19])
    props = ET.SubElement(suite, "properties")
    for name, value in (("run_id", run_id), ("policy_sha256", section.policy_sha256), ("status", section.status),
                        ("window", section.window)):
        ET.SubElement(props, "property", name=name, value=value)
    for window, check in cases:
        name = f"{window.key} {check.id}" + (f" {check.subject}" if check.subject else "")
        case = ET.SubElement(suite, "testcase", name=name, classname=f"govaudit.monitor.{check.id}", time="0")
        if (window.key, check.id, check.subject) in active:
            ET.SubElement(case, "failure", message=check.evidence, type=f"monitor.{check.status}")
        elif check.status == "skipped":
            ET.SubElement(case, "skipped", message=check.evidence)
        ET.SubElement(case, "system-out").text = f"{check.status} ({check.severity}): {check.evidence}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _cell(value: object) -> str:
    if value is None or value == "":
        return "–"
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def markdown_summary(section: MonitoringSection, run_id: str) -> str:
    lines = [f"## {_ICON[section.status]} govaudit monitor: {section.status}", "",
             f"Run `{run_id}` · policy **{_cell(section.policy_name)}** (sha256 `{section.policy_sha256[:12]}`) · "
             f"{len(section.windows)} window(s) of {section.window} · evaluated {section.evaluated_at}", "",
             "| Window | Rows | Prediction PSI | Score PSI | Findings |", "|---|---|---|---|---|"]
    for window in section.windows:
        found = [c for c in window.checks if c.status == "alert"]
        text = ", ".join(f"{c.id}{f' [{c.subject}]' if c.subject else ''}" for c in found) or (
            "small window" if window.small else "–")
        lines.append(f"| {window.key} | {window.n} | {_cell(window.metrics.get('prediction_drift_psi'))} | "
                     f"{_cell(window.metrics.get('score_drift_psi'))} | {_cell(text)} |")
    active = [a for a in section.alerts if a.active]
    if active:
        lines += ["", "**Active findings:**", *[f"- {_cell(a.severity)} `{a.check}` {_cell(a.subject or '')} "
                                                f"in {a.window}: {_cell(a.evidence)}" for a in active]]
    return "\n".join(lines) + "\n"
