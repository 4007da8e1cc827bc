"""`govaudit gate`: exit codes, record.policy saved, JUnit (XSD + junitparser), Markdown, JSON, sign-off ledger."""
from __future__ import annotations

import json

import pytest
import xmlschema
from junitparser import Failure, JUnitXml, Skipped
from section_builders import fairness, group, grouping

from audit.cli import main
from audit.record import RunRecord
from audit.record.signoff import SignoffLedger, signoff_subject_sha256
from audit.record.store import RunStore

# The common JUnit XML layout (Ant / Jenkins / GitLab / GitHub test reporters): <testsuites> of <testsuite> with
# counts, optional <properties>, and <testcase> elements holding at most one of <failure>/<error>/<skipped> plus
# <system-out>/<system-err>. Written here from that format's documented structure; strict on element order and types.
JUNIT_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:complexType name="result" mixed="true">
    <xs:attribute name="message" type="xs:string"/>
    <xs:attribute name="type" type="xs:string"/>
  </xs:complexType>
  <xs:element name="testsuites">
    <xs:complexType>
      <xs:sequence><xs:element ref="testsuite" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
      <xs:attribute name="name" type="xs:string"/>
      <xs:attribute name="tests" type="xs:nonNegativeInteger"/>
      <xs:attribute name="failures" type="xs:nonNegativeInteger"/>
      <xs:attribute name="errors" type="xs:nonNegativeInteger"/>
      <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
      <xs:attribute name="time" type="xs:decimal"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="testsuite">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="properties" minOccurs="0">
          <xs:complexType><xs:sequence>
            <xs:element name="property" maxOccurs="unbounded">
              <xs:complexType>
                <xs:attribute name="name" type="xs:string" use="required"/>
                <xs:attribute name="value" type="xs:string" use="required"/>
              </xs:complexType>
            </xs:element>
          </xs:sequence></xs:complexType>
        </xs:element>
        <xs:element name="testcase" minOccurs="0" maxOccurs="unbounded">
          <xs:complexType>
            <xs:sequence>
              <xs:choice minOccurs="0">
                <xs:element name="skipped" type="result"/>
                <xs:element name="error" type="result"/>
                <xs:element name="failure" type="result"/>
              </xs:choice>
              <xs:element name="system-out" type="xs:string" minOccurs="0"/>
              <xs:element name="system-err" type="xs:string" minOccurs="0"/>
            </xs:sequence>
            <xs:attribute name="name" type="xs:string" use="required"/>
            <xs:attribute name="classname" type="xs:string" use="required"/>
            <xs:attribute name="time" type="xs:decimal"/>
          </xs:complexType>
        </xs:element>
        <xs:element name="system-out" type="xs:string" minOccurs="0"/>
        <xs:element name="system-err" type="xs:string" minOccurs="0"/>
      </xs:sequence>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
      <xs:attribute name="failures" type="xs:nonNegativeInteger" use="required"/>
      <xs:attribute name="errors" type="xs:nonNegativeInteger" use="required"/>
      <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
      <xs:attribute name="time" type="xs:decimal"/>
      <xs:attribute name="timestamp" type="xs:dateTime"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""

POLICY = """
name: ci-test
on_missing: fail
checks:
  impact_ratio: {min: 0.8}
  demographic_parity_difference: {max: 0.1, severity: warn}
  counterfactual_flip_rate: {on_missing: ignore}
  residual_pii: {on_missing: warn}
  reviewer_signoff: {severity: block, on_missing: warn}
"""


def biased_record(run_id: str, ratio: float) -> RunRecord:
    from audit.record import Estimate

    fair = fairness(grouping("age_group", [group("younger", 400, 1.0), group("older <&> \"x\"", 200, ratio)],
                             dp=Estimate(value=0.15, ci_low=0.1, ci_high=0.2)))
    return RunRecord(run_id=run_id, fairness=fair)


@pytest.fixture()
def env(tmp_path):
    store = RunStore(tmp_path / "runs")
    store.create(biased_record("bad", 0.55))
    store.create(biased_record("good", 0.95))
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    return store, tmp_path


def gate(store, tmp_path, run_id: str, *extra: str) -> int:
    return main(["gate", run_id, "--policy", str(tmp_path / "policy.yaml"), "--runs-root", str(store.root),
                 "--junit", str(tmp_path / "junit.xml"), "--markdown", str(tmp_path / "summary.md"),
                 "--json-out", str(tmp_path / "gate.json"), *extra])


def test_blocked_run_exits_1_and_names_group_and_ratio(env, capsys):
    store, tmp_path = env
    assert gate(store, tmp_path, "bad") == 1
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("gate BLOCKED: run bad, policy 'ci-test'")
    fail_lines = [line for line in lines if line.startswith("FAIL (blocks)")]
    assert len(fail_lines) == 2  # impact ratio and the missing sign-off (no ledger entries -> evaluated, not approved)
    assert any("impact_ratio:age_group" in line and "older" in line and "0.550" in line for line in fail_lines)
    assert "blocked by policy" in captured.err
    record = store.load("bad")
    assert record.policy.verdict == "fail"
    index = {r["run_id"]: r for r in store.list()}
    assert (index["bad"]["verdict"], index["bad"]["failed_checks"]) == ("fail", 2)


def test_warnings_pass_with_exit_0(env, capsys):
    store, tmp_path = env
    SignoffLedger(store).sign("good", signoff_subject_sha256(store.load("good")), "approve", "looked at it", "rev")
    assert gate(store, tmp_path, "good") == 0
    out = capsys.readouterr().out
    assert out.startswith("gate passed with warnings") and "WARN demographic_parity_difference:age_group" in out
    assert "WARN residual_pii" not in out and "NOT RUN residual_pii" in out
    assert store.load("good").policy.verdict == "warn"


def test_junit_validates_against_schema_and_parses(env):
    store, tmp_path = env
    assert gate(store, tmp_path, "bad") == 1
    text = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    xmlschema.XMLSchema(JUNIT_XSD).validate(text)
    xml = JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    suites = list(xml)
    assert len(suites) == 1
    cases = {case.name: case for case in suites[0]}
    section = store.load("bad").policy
    assert set(cases) == {c.id for c in section.checks}  # one test case per check
    assert suites[0].tests == len(section.checks) and suites[0].failures == 2
    impact = cases["impact_ratio:age_group"]
    assert not impact.is_passed and isinstance(impact.result[0], Failure)
    assert 'older <&> "x"' in impact.result[0].message and "0.550" in impact.result[0].message
    skipped = cases["counterfactual_flip_rate"]
    assert skipped.is_skipped and isinstance(skipped.result[0], Skipped)
    assert cases["residual_pii"].is_skipped  # not run, on_missing warn: skipped, not failed
    assert cases["demographic_parity_difference:age_group"].is_passed  # warn severity: reported, not failed
    props = {p.name: p.value for p in suites[0].properties()}
    assert props["verdict"] == "fail" and props["run_id"] == "bad"


def test_markdown_and_json_outputs(env):
    store, tmp_path = env
    assert gate(store, tmp_path, "bad") == 1
    markdown = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert markdown.startswith("## ❌ govaudit gate: BLOCKED")
    rows = [line for line in markdown.splitlines() if line.startswith("| ")][1:]  # after the header row
    assert len(rows) == len(store.load("bad").policy.checks)
    assert rows[0].startswith("| ❌ fail |")  # blocking checks first
    assert "<&>" not in markdown and "&lt;&>" in markdown  # no raw HTML from group names
    payload = json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))
    assert payload["exit_code"] == 1 and payload["verdict"] == "fail" and payload["run_id"] == "bad"
    assert {c["id"] for c in payload["checks"]} == {c.id for c in store.load("bad").policy.checks}


def test_json_mode_prints_payload(env, capsys):
    store, tmp_path = env
    assert main(["--json", "gate", "good", "--policy", str(tmp_path / "policy.yaml"),
                 "--runs-root", str(store.root)]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["verdict"] == "fail" and payload["exit_code"] == 1  # no approval yet and sign-off blocks


def test_signoff_survives_repeated_gate_runs_and_breaks_on_new_evidence(env, capsys):
    store, tmp_path = env
    ledger = SignoffLedger(store)
    assert gate(store, tmp_path, "good") == 1  # sign-off required, none yet
    # the reviewer sees the record after this gate and approves its evidence hash
    subject = store.load("good").policy.signoff_subject_sha256
    assert subject == signoff_subject_sha256(store.load("good"))
    ledger.sign("good", subject, "approve", "evidence reviewed", "reviewer@example.com")
    assert gate(store, tmp_path, "good") == 0
    assert gate(store, tmp_path, "good") == 0  # the gate's own write does not void the approval
    record = store.load("good")
    record.notice("audit", "rerun", "evidence changed")
    store.save(record)
    assert gate(store, tmp_path, "good") == 1  # new evidence needs a new approval
    ledger.sign("good", signoff_subject_sha256(store.load("good")), "reject", "not convinced", "reviewer@example.com")
    assert gate(store, tmp_path, "good") == 1
    capsys.readouterr()


def test_expired_waiver_is_reported_on_stderr(env, capsys):
    store, tmp_path = env
    (tmp_path / "policy.yaml").write_text(POLICY + "waivers:\n  - {check: impact_ratio, owner: o, reason: r, "
                                                   "expires: 2001-01-01}\n", encoding="utf-8")
    assert gate(store, tmp_path, "bad") == 1
    captured = capsys.readouterr()
    assert "expired waiver ignored: impact_ratio" in captured.err
    assert "EXPIRED WAIVER impact_ratio" in captured.out


@pytest.mark.parametrize("example", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_examples_call_the_gate_with_options_it_has(example):
    import re
    from pathlib import Path

    import typer.main
    import yaml

    from audit.cli import app

    path = Path(__file__).resolve().parents[3] / "examples" / "ci" / example
    text = path.read_text(encoding="utf-8")
    yaml.safe_load(text)
    gate_cmd = typer.main.get_command(app).commands["gate"]
    known = {opt for param in gate_cmd.params for opt in param.opts}
    calls = re.findall(r"govaudit gate (.*?(?:\n\s+--.*?)*)$", text, flags=re.M)
    assert calls, "the example must run the gate"
    for call in calls:
        used = set(re.findall(r"(--[a-z-]+)", call))
        assert used and used <= known, used - known
    assert "report.html" in text and "gate-junit.xml" in text
