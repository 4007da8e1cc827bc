"""Evaluate a policy on a run record: severity, on_missing, waivers, verdict."""
from __future__ import annotations

from datetime import date, datetime, timezone

from audit.record import CheckResult, LedgerState, MonitoringSection, PolicySection, RunRecord, utc_now
from audit.record.signoff import signoff_subject_sha256

from ._checks import CHECKS, TITLES, Context, Finding, SignoffSource
from ._model import CheckConfig, LoadedPolicy, Waiver

__all__ = ["evaluate_policy"]


def _result(check_id: str, cfg: CheckConfig, finding: Finding, on_missing: str) -> CheckResult:
    if finding.ok is None:
        status = "not_run"
        missing_effect = {"fail": cfg.severity, "warn": "warn", "ignore": "none"}[on_missing]
        effect = "none" if finding.not_applicable else missing_effect
    elif finding.ok:
        status, effect = "pass", "none"
    elif finding.blocks:
        status, effect = "fail", "block"
    else:
        status = "fail" if cfg.severity == "block" else "warn"
        effect = cfg.severity
    return CheckResult(
        id=f"{check_id}:{finding.key}" if finding.key else check_id,
        title=TITLES[check_id], status=status, severity=cfg.severity, effect=effect,
        subject=finding.subject or finding.key,
        measured=finding.measured, threshold=finding.threshold, basis=finding.basis, ci_low=finding.ci_low,
        ci_high=finding.ci_high,
        evidence=finding.evidence if finding.ok is not None or finding.not_applicable else f"not run: {finding.evidence}",
        source=cfg.source)


def _apply_waiver(result: CheckResult, waivers: list[Waiver]) -> CheckResult:
    if result.effect != "block" or result.measured == "trail broken":  # no waiver for a tampered trail
        return result
    base = result.id.split(":", 1)[0]
    waiver = next((w for w in waivers if w.check in (result.id, base)), None)
    if waiver is None:
        return result
    status = "warn" if result.status == "fail" else result.status
    return result.model_copy(update={"status": status, "effect": "warn", "waiver": waiver.describe()})


def evaluate_policy(record: RunRecord, loaded: LoadedPolicy, *, today: date | None = None,
                    signoff: SignoffSource | None = None, monitoring: MonitoringSection | None = None,
                    monitoring_run: str | None = None) -> PolicySection:
    """Run every enabled check of the policy on `record` (reading only the record) and return the policy section.

    `today` decides which waivers have expired (default: today in UTC); `signoff` is the sign-off ledger the
    reviewer-sign-off check asks (None: that check is not run); `monitoring` the section of the run's monitoring child
    run `monitoring_run` (None: the monitoring check is not run).
    """
    policy = loaded.policy
    today = today or datetime.now(timezone.utc).date()
    subject_sha = signoff_subject_sha256(record)
    active = [w for w in policy.waivers if w.expires >= today]
    expired = [f"{w.describe()} — expired, ignored" for w in policy.waivers if w.expires < today]
    ledger = signoff.verify() if signoff is not None else None
    ctx = Context(policy=policy, signoff=signoff, subject_sha256=subject_sha, ledger=ledger, monitoring=monitoring,
                  monitoring_run=monitoring_run, today=today)
    results: list[CheckResult] = []
    for check_id, cfg in policy.checks.enabled().items():
        findings = CHECKS[check_id](record, cfg, ctx)
        on_missing = cfg.on_missing or policy.on_missing
        results += [_apply_waiver(_result(check_id, cfg, f, on_missing), active) for f in findings]
    effects = {r.effect for r in results}
    verdict = "fail" if "block" in effects else "warn" if "warn" in effects or expired else "pass"
    return PolicySection(policy_name=policy.name, policy_sha256=loaded.sha256, policy_source=loaded.source,
                         use_case=policy.use_case, rationale=policy.rationale,
                         evaluated_at=utc_now(), verdict=verdict, checks=results, expired_waivers=expired,
                         signoff_subject_sha256=subject_sha,
                         signoff_ledger=None if ledger is None else LedgerState(
                             head=ledger.head, entries=ledger.entries, intact=ledger.ok, problems=ledger.problems))
