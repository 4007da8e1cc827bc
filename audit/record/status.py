"""One source of truth for every status the report and the dashboard show, derived from `record.policy`.

A check's level is its status (`fail`, `warn`, `pass`, `not-run`); a check that could not run is NOT RUN, never WARN,
whatever its effect on the verdict. A group's four-fifths level is the level of the policy's impact-ratio check for
its grouping, applied with that check's own threshold and basis (point estimate or CI bound), so the policy line, the
fairness line and the table badge cannot disagree. Without a covering policy check the group falls back to the
fairness stage's `four_fifths_pass` (point estimate against 0.8). A group under LL144's 2% share is `ll144`
(excluded from the reference and the verdict, counts still shown), apart from a small or unknown group (`excluded`:
no verdict of its own, a small group can still be the reference). A disparity test's level is `evidence` (adjusted
p-value below the section's alpha), `no-evidence` or `not-tested`; the fairness stage's conclusion text uses it too.

Monitoring: `monitor_level` is the status of a monitoring section (the monitor writes it, the report and dashboard show
it), `open_alerts` / `recent_alerts` the findings the gate's `monitoring` check counts, so the gate line, the report
badge and the dashboard banner count the same alerts.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._common import Estimate
from ._fairness import DisparityTest, GroupingResult, GroupResult, GroupTest
from ._monitoring import MonitorAlert, MonitoringSection
from ._policy import CheckResult, PolicySection
from ._probes import CounterfactualSection

__all__ = ["LEVELS", "LABELS", "check_level", "level_counts", "blocking_checks", "impact_check", "GroupStatus",
           "group_status", "evidence_level", "MaxFlip", "max_flip", "FOUR_FIFTHS", "monitor_level", "open_alerts",
           "recent_alerts", "MonitoringStatus", "monitoring_status", "MONITOR_LEVEL", "result_level"]

FOUR_FIFTHS = 0.8
LEVELS = ("fail", "warn", "not-run", "pass")
LABELS = {"fail": "FAIL", "warn": "WARN", "not-run": "NOT RUN", "pass": "PASS", "excluded": "EXCLUDED",
          "reference": "REFERENCE", "info": "INFO", "ok": "OK", "ll144": "EXCLUDED (LL144 < 2%)",
          "evidence": "DISPARITY", "no-evidence": "NO EVIDENCE", "not-tested": "NOT TESTED"}


def check_level(check: CheckResult) -> str:
    """'fail', 'warn', 'pass' or 'not-run' (a check whose evidence was missing)."""
    return check.status if check.status in ("fail", "warn", "pass") else "not-run"


def level_counts(policy: PolicySection | None) -> dict[str, int]:
    """Number of checks per level, every level present (zero when none)."""
    counts = dict.fromkeys(LEVELS, 0)
    for check in policy.checks if policy else []:
        counts[check_level(check)] += 1
    return counts


def blocking_checks(policy: PolicySection | None) -> list[CheckResult]:
    """Checks that block the verdict: failed with severity block, or not run under on_missing: fail."""
    return [c for c in (policy.checks if policy else []) if c.effect == "block"]


def result_level(policy: PolicySection | None, check_id: str) -> str | None:
    """The level of the policy's result with this id ('span_flip_rate:names_gender', 'span_name_reliance'), None when
    the gate has not judged it: what the token-classifier tables show next to the number the check compared."""
    check = next((c for c in (policy.checks if policy else []) if c.id == check_id), None)
    return None if check is None else check_level(check)


def impact_check(policy: PolicySection | None, grouping: GroupingResult) -> CheckResult | None:
    """The policy's impact-ratio result for this grouping ('impact_ratio:<name>' or '...:<name> [<outcome>]')."""
    if policy is None:
        return None
    ids = (f"impact_ratio:{grouping.name} [{grouping.outcome}]", f"impact_ratio:{grouping.name}")
    return next((c for i in ids for c in policy.checks if c.id == i), None)


@dataclass(frozen=True)
class GroupStatus:
    """A group's four-fifths level ('fail', 'warn', 'pass', 'not-run', 'excluded', 'll144', 'reference') and its
    grounds."""

    level: str
    check_id: str | None = None
    threshold: float = FOUR_FIFTHS
    basis: str = "point estimate"
    compared: float | None = None
    waived: bool = False

    @property
    def below(self) -> bool:
        return self.level in ("fail", "warn")


def _compared(ratio: Estimate, basis: str | None) -> float | None:
    if basis and basis.startswith("CI lower") and ratio.ci_low is not None:
        return ratio.ci_low
    return ratio.value


def group_status(policy: PolicySection | None, grouping: GroupingResult, group: GroupResult) -> GroupStatus:
    """The one four-fifths status of `group` that every view shows."""
    if group.excluded and not group.unknown:
        return GroupStatus("ll144")
    if group.small or group.unknown:
        return GroupStatus("excluded")
    ratio = group.impact_ratio
    if ratio is None or ratio.value is None:
        return GroupStatus("reference" if group.group == grouping.reference_group else "not-run")
    check = impact_check(policy, grouping)
    if check is None:
        if group.four_fifths_pass is None:
            return GroupStatus("reference" if group.group == grouping.reference_group else "not-run")
        return GroupStatus("pass" if group.four_fifths_pass else "fail", compared=ratio.value)
    threshold = float(check.threshold) if isinstance(check.threshold, (int, float)) else FOUR_FIFTHS
    basis = check.basis or "point estimate"
    compared = _compared(ratio, basis)
    if check_level(check) == "not-run" or compared is None:
        return GroupStatus("not-run", check.id, threshold, basis)
    if compared >= threshold:
        level = "pass"
    elif check.status == "pass":  # below, yet the check passed: the policy's min_group_size excluded this group
        level = "excluded"
    else:
        level = check_level(check)
    return GroupStatus(level, check.id, threshold, basis, compared, waived=bool(check.waiver) and level == "warn")


def evidence_level(test: DisparityTest | GroupTest, alpha: float) -> str:
    """'evidence' (adjusted p-value < alpha), 'no-evidence', or 'not-tested' (no p-value: too few groups, no data)."""
    if test.p_value is None or test.p_adjusted is None:
        return "not-tested"
    return "evidence" if test.p_adjusted < alpha else "no-evidence"


@dataclass(frozen=True)
class MaxFlip:
    rate: float
    family: str


def max_flip(section: CounterfactualSection | None) -> MaxFlip | None:
    """The highest flip rate over term families and templates (the number `max_flip_rate` records)."""
    if section is None:
        return None
    rated = [(f.flip_rate.value, f.family) for f in section.families + section.templates if f.flip_rate.value is not None]
    if not rated:
        return None
    rate, family = max(rated, key=lambda item: item[0])
    return MaxFlip(rate, family)


MONITOR_LEVEL = {"alert": "fail", "warn": "warn", "ok": "pass"}  # a monitoring status as a check level (badge colour)


def open_alerts(alerts: list[MonitorAlert], *, warnings: bool = False) -> list[MonitorAlert]:
    """Active alerts (in a window the last monitor call changed, or the latest window) of alert severity; with
    `warnings` also the active warn-severity findings."""
    return [a for a in alerts if a.active and (warnings or a.severity == "alert")]


def monitor_level(alerts: list[MonitorAlert]) -> str:
    """'alert' (an open alert-severity finding), 'warn' (open warn-severity findings only) or 'ok'."""
    return "alert" if open_alerts(alerts) else "warn" if open_alerts(alerts, warnings=True) else "ok"


def recent_alerts(section: MonitoringSection, last: int, *, warnings: bool = False) -> list[tuple[str, str]]:
    """(window, check[subject]) of every check that alerted (its breach lasted its `consecutive` windows) with alert
    severity (with `warnings`: any severity) in the last `last` windows, open or not. Single-window breaches are left
    out: with a dozen tests per window they happen on quiet traffic too (bench/monitor_rates.py)."""
    return [(w.key, c.id + (f" [{c.subject}]" if c.subject else "")) for w in section.windows[-last:] if last
            for c in w.checks if c.status == "alert" and (warnings or c.severity == "alert")]


@dataclass(frozen=True)
class MonitoringStatus:
    """What every view says of a monitoring section: its level and the open findings behind it."""

    status: str  # ok, warn, alert
    level: str  # the badge: pass, warn, fail
    alerts: int  # open alert-severity findings
    warnings: int  # open warn-severity findings
    windows: int

    @property
    def summary(self) -> str:
        return (f"{self.status.upper()}: {self.alerts} open alert(s), {self.warnings} open warning(s) over "
                f"{self.windows} window(s)")


def monitoring_status(section: MonitoringSection) -> MonitoringStatus:
    alerts = len(open_alerts(section.alerts))
    status = monitor_level(section.alerts)
    return MonitoringStatus(status, MONITOR_LEVEL[status], alerts,
                            len(open_alerts(section.alerts, warnings=True)) - alerts, len(section.windows))
