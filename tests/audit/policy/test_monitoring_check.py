"""The gate's `monitoring` check: reads the child run `<RUN>.monitor`'s section, fails on open alerts or recent
breaches, is missing evidence without (or with stale) monitoring."""
from __future__ import annotations

from datetime import date

import pytest

from audit.policy import LoadedPolicy, evaluate_policy, policy_from_text
from audit.record import RunRecord
from audit.record.status import monitoring_status, open_alerts
from monitor_synth import log_frame, monitor, write_log

TODAY = date(2026, 6, 1)
RUN = RunRecord(run_id="r")


def _policy(check: str = "{}", on_missing: str = "fail") -> LoadedPolicy:
    text = f"name: t\non_missing: {on_missing}\nchecks:\n  monitoring: {check}\n"
    return LoadedPolicy(policy=policy_from_text(text, source="t.yaml"), sha256="0" * 64, source="t.yaml")


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mon")
    out = {}
    for name, seed, drift, windows in (("quiet", 101, "none", 8), ("drift", 7, "label_shift", 8),
                                       ("breach", 9, "group_selection_falls", 5)):
        _, out[name] = monitor(tmp / name, [write_log(log_frame(seed, drift=drift, windows=windows),
                                                      tmp / name / "log.csv")], seed)
    return out


def _check(section, policy=None, today=TODAY):
    result = evaluate_policy(RUN, policy or _policy(), today=today, monitoring=section, monitoring_run="r.monitor")
    return result, {c.id: c for c in result.checks}


def test_open_alerts_block_and_a_quiet_replay_passes(sections):
    result, checks = _check(sections["quiet"])
    assert result.verdict == "pass" and checks["monitoring:open alerts"].measured == 0
    result, checks = _check(sections["drift"])
    check = checks["monitoring:open alerts"]
    assert result.verdict == "fail" and check.status == "fail" and check.effect == "block"
    assert check.measured == len(open_alerts(sections["drift"].alerts)) == monitoring_status(sections["drift"]).alerts > 0
    assert "prediction_drift" in check.evidence and "r.monitor" in check.evidence
    _, allowed = _check(sections["drift"], _policy(f"{{max_open_alerts: {check.measured}}}"))
    assert allowed["monitoring:open alerts"].status == "pass"


def _closed(section):
    """The section as after a later quiet call: its alerts stay, none is open any more."""
    return section.model_copy(update={"alerts": [a.model_copy(update={"active": False}) for a in section.alerts]})


def test_closed_alerts_do_not_count_as_open_but_last_windows_keep_them(sections):
    closed = _closed(sections["drift"])
    result, checks = _check(closed)
    assert result.verdict == "pass" and checks["monitoring:open alerts"].measured == 0
    result, checks = _check(closed, _policy("{last_windows: 2}"))
    assert checks["monitoring:open alerts"].status == "pass"
    recent = checks["monitoring:last 2 windows"]
    assert recent.status == "fail" and recent.measured == 2 and "prediction_drift" in recent.evidence
    assert result.verdict == "fail"


def test_last_windows_ignore_single_breaches(sections):
    section = sections["breach"]  # the selection rate of sex:F falls in the last window: a breach, not yet an alert
    assert open_alerts(section.alerts) == []
    assert any(c.status == "breach" and c.subject == "sex:F" for c in section.windows[-1].checks)
    _, checks = _check(section, _policy("{last_windows: 2}"))
    assert checks["monitoring:last 2 windows"].status == "pass"
    _, quiet = _check(sections["quiet"], _policy("{last_windows: 8}"))
    assert quiet["monitoring:last 8 windows"].status == "pass"


def test_warn_severity_warns(sections):
    result, checks = _check(sections["drift"], _policy("{severity: warn}"))
    assert result.verdict == "warn" and checks["monitoring:open alerts"].status == "warn"


def test_no_monitoring_or_stale_monitoring_is_missing_evidence(sections):
    result, checks = _check(None)
    assert checks["monitoring"].status == "not_run" and checks["monitoring"].effect == "block"
    assert "govaudit monitor --run r" in checks["monitoring"].evidence
    _, ignored = _check(None, _policy(on_missing="ignore"))
    assert ignored["monitoring"].effect == "none"
    evaluated = date.fromisoformat(sections["quiet"].evaluated_at[:10])
    late = date.fromordinal(evaluated.toordinal() + 10)
    _, stale = _check(sections["quiet"], _policy("{max_age_days: 7}"), today=late)
    assert stale["monitoring"].status == "not_run" and "stale" in stale["monitoring"].evidence
    _, fresh = _check(sections["quiet"], _policy("{max_age_days: 30}"), today=late)
    assert fresh["monitoring:open alerts"].status == "pass"
