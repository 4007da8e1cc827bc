"""The policy checks: each reads only the run record and returns findings (ok, measured, threshold, evidence).

A finding with `ok=None` means the check could not run (section or evidence missing); the evaluator then applies the
policy's `on_missing`. Severity and waivers are applied by the evaluator, not here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from audit.record import Estimate, GroupingResult, MonitoringSection, RunRecord
from audit.record.signoff import Approval, LedgerCheck, run_owner
from audit.record.status import open_alerts, recent_alerts

from ._model import (
    CheckConfig,
    DisparityCheck,
    DisparityTestCheck,
    FlipRateCheck,
    ImpactRatioCheck,
    MacroF1Check,
    MisroutingCheck,
    MonitoringGateCheck,
    EntityF1Check,
    EntityParityCheck,
    PiiRecallCheck,
    Policy,
    RelianceCheck,
    ResidualPiiCheck,
    SignoffCheck,
    SpanFlipCheck,
    SpanNameRelianceCheck,
)

__all__ = ["Finding", "Context", "SignoffSource", "CHECKS", "TITLES"]


class SignoffSource(Protocol):
    """What the reviewer-sign-off check needs from a sign-off ledger (audit/record/signoff.py)."""

    def verify(self, expect_head: str | None = None) -> LedgerCheck: ...

    def approval(self, run_id: str, subject_sha256: str, *, owner: str = "", min_approvals: int = 1,
                 max_age_days: int | None = None, check: LedgerCheck | None = None) -> Approval: ...


@dataclass
class Context:
    policy: Policy
    signoff: SignoffSource | None = None
    subject_sha256: str | None = None
    ledger: LedgerCheck | None = None
    monitoring: MonitoringSection | None = None  # the child run `<RUN>.monitor`'s section, if there is one
    monitoring_run: str | None = None
    today: date | None = None


@dataclass
class Finding:
    ok: bool | None
    evidence: str
    key: str | None = None
    subject: str | None = None
    measured: float | str | None = None
    threshold: float | str | None = None
    basis: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    not_applicable: bool = False  # the rule does not apply to these outcomes' directions: not run, never blocks
    blocks: bool = False  # blocks whatever the check's severity (a broken sign-off trail)


CheckFn = Callable[[RunRecord, CheckConfig, Context], list[Finding]]


def _ci_text(est: Estimate) -> str:
    if est.ci_low is None or est.ci_high is None:
        return "no CI"
    return f"CI {est.ci_low:.3f}–{est.ci_high:.3f}"


def _compared(est: Estimate, use_ci: bool, lower: bool) -> tuple[float | None, str]:
    """The value to compare: the pessimistic CI bound if asked for and present, else the point estimate."""
    if use_ci:
        bound = est.ci_low if lower else est.ci_high
        if bound is not None:
            return bound, "CI lower bound" if lower else "CI upper bound"
        return est.value, "point estimate (no CI in the record)"
    return est.value, "point estimate"


def _at_most(est: Estimate, limit: float, use_ci: bool, what: str, *, key: str | None = None, note: str = "",
             after: str = "") -> Finding:
    """A finding for 'value <= limit' on an estimate (its CI upper bound when asked), with the evidence text."""
    value, basis = _compared(est, use_ci, lower=False)
    ok = value <= limit
    return Finding(ok, f"{what} ({_ci_text(est)}; {basis} {value:.3f} {'<=' if ok else '>'} {limit:.2f}{note}){after}",
                   key=key, measured=round(value, 6), threshold=limit, basis=basis, ci_low=est.ci_low,
                   ci_high=est.ci_high)


def _use_ci(cfg: CheckConfig, ctx: Context) -> bool:
    value = getattr(cfg, "use_ci_bound", None)
    return ctx.policy.use_ci_bound if value is None else value


SELECTION = ("favorable", "adverse")  # directions judged on selection rates; neutral classes only on error parity


def _groupings(record: RunRecord, cfg: ImpactRatioCheck | DisparityCheck | DisparityTestCheck | MisroutingCheck,
               directions: tuple[str, ...] = ("favorable", "adverse", "neutral")
               ) -> Iterator[tuple[str, GroupingResult]]:
    """Groupings the check applies to (by feature and by the outcome's direction), with a subject name unique across
    outcomes (multiclass: one per class)."""
    every = [g for g in record.fairness.groupings
             if (not cfg.features or g.name in cfg.features) and (cfg.intersections or len(g.features) <= 1)]
    outcomes = {g.outcome for g in every}
    for grouping in every:
        if grouping.direction in directions:
            yield (f"{grouping.name} [{grouping.outcome}]" if len(outcomes) > 1 else grouping.name), grouping


def _none_applicable(findings: list[Finding], what: str) -> list[Finding]:
    return findings or [Finding(None, f"not applicable: no audited outcome is judged on {what} (the outcomes' "
                                      "directions, fairness.classes, exclude it)", not_applicable=True)]


def _no_fairness(record: RunRecord) -> list[Finding] | None:
    if record.fairness is None:
        return [Finding(None, "record has no fairness section (run `govaudit audit`)")]
    if not record.fairness.groupings:
        return [Finding(None, "fairness section has no groupings (no sensitive features configured)")]
    return None


def impact_ratio(record: RunRecord, cfg: ImpactRatioCheck, ctx: Context) -> list[Finding]:
    if (missing := _no_fairness(record)) is not None:
        return missing
    use_ci, findings = _use_ci(cfg, ctx), []
    for subject, grouping in _groupings(record, cfg, SELECTION):
        judged, excluded = [], []
        for group in grouping.groups:
            if group.unknown:
                excluded.append(f"{group.group} (missing value, n={group.count})")
            elif group.excluded:
                excluded.append(f"{group.group} (under 2% share, n={group.count})")
            elif group.small or group.count < ctx.policy.min_group_size:
                excluded.append(f"{group.group} (small, n={group.count})")
            elif group.impact_ratio is not None and group.impact_ratio.value is not None:
                value, basis = _compared(group.impact_ratio, use_ci, lower=True)
                judged.append((value, basis, group))
            else:
                note = group.impact_ratio.note if group.impact_ratio else None
                excluded.append(f"{group.group} (ratio undefined{': ' + note if note else ''})")
        tail = f"; no verdict for {', '.join(excluded)}" if excluded else ""
        if not judged:
            findings.append(Finding(None, f"{subject}: no group large enough for a verdict{tail}", key=subject))
            continue
        value, basis, worst = min(judged, key=lambda item: item[0])
        rate = worst.metrics.get("selection_rate")
        rate_text = f"selection rate {rate.value:.3f}, " if rate and rate.value is not None else ""
        ok = value >= cfg.min
        evidence = (f"{subject}={worst.group}: impact ratio {worst.impact_ratio.value:.3f} "
                    f"({_ci_text(worst.impact_ratio)}; {basis} {value:.3f} {'>=' if ok else '<'} {cfg.min:.2f}; "
                    f"{rate_text}n={worst.count}) vs reference {grouping.reference_group!r} "
                    f"for outcome {grouping.outcome!r}{tail}")
        findings.append(Finding(ok, evidence, key=subject, subject=f"{subject}={worst.group}", measured=round(value, 6),
                                threshold=cfg.min, basis=basis, ci_low=worst.impact_ratio.ci_low,
                                ci_high=worst.impact_ratio.ci_high))
    return _none_applicable(findings, "selection rates")


# Rates of the audited class itself. An adverse class is audited through its complement (favorable = not adverse),
# so its own TPR range is the complement's FPR range and its own FPR range the complement's TPR range.
_OWN_RATE = {"true_positive_rate_difference": ("equal_opportunity_difference", "false_positive_rate_difference"),
             "false_positive_rate_difference": ("false_positive_rate_difference", "equal_opportunity_difference")}


def _disparity(key: str, directions: tuple[str, ...] = ("favorable", "adverse", "neutral")) -> CheckFn:
    def check(record: RunRecord, cfg: DisparityCheck, ctx: Context) -> list[Finding]:
        if (missing := _no_fairness(record)) is not None:
            return missing
        use_ci, findings = _use_ci(cfg, ctx), []
        for subject, grouping in _groupings(record, cfg, directions):
            stored, of = key, f"outcome {grouping.outcome!r}"
            if key in _OWN_RATE:
                direct, flipped = _OWN_RATE[key]
                adverse = grouping.direction == "adverse"
                stored = flipped if adverse else direct
                if adverse:
                    of = f"the adverse class (complement of {grouping.outcome!r}; record key {stored})"
            est = grouping.disparities.get(stored)
            if est is None or est.value is None:
                why = est.note if est is not None and est.note else "not in the record"
                findings.append(Finding(None, f"{subject}: {key} undefined ({why})", key=subject))
                continue
            findings.append(_at_most(est, cfg.max, use_ci, f"{subject}: {key} {est.value:.3f}", key=subject,
                                     after=f" for {of}"))
        return _none_applicable(findings, key)
    return check


_FLIPPED_TEST = {"tpr": "fpr", "fpr": "tpr"}  # an adverse class's own TPR/FPR test is its complement's FPR/TPR test


def disparity_test(record: RunRecord, cfg: DisparityTestCheck, ctx: Context) -> list[Finding]:
    """Fails where the section's test of 'any disparity' found evidence (adjusted p-value below its alpha); metric
    names refer to the audited class itself (for an adverse class: the adverse class, not its complement)."""
    if (missing := _no_fairness(record)) is not None:
        return missing
    alpha, findings = record.fairness.alpha, []
    for subject, grouping in _groupings(record, cfg):
        for metric in cfg.metrics:
            if metric == "selection_rate" and grouping.direction == "neutral":
                continue
            stored = _FLIPPED_TEST.get(metric, metric) if grouping.direction == "adverse" else metric
            test = grouping.tests.get(stored)
            key = f"{subject}/{metric}"
            if test is None or test.p_adjusted is None:
                why = test.conclusion if test is not None else "no test in the record (n_perm 0 or an older record)"
                findings.append(Finding(None, f"{key}: {why}", key=key))
                continue
            ok = test.p_adjusted >= alpha
            findings.append(Finding(
                ok, f"{key}: {test.conclusion} (p={test.p_value:.4f}, {record.fairness.correction}-adjusted "
                    f"{test.p_adjusted:.4f} {'>=' if ok else '<'} {alpha}; {test.method}, {test.n_perm} permutations, "
                    f"{test.n_groups} groups) for outcome {grouping.outcome!r}",
                key=key, measured=round(test.p_adjusted, 6), threshold=alpha, basis="adjusted p-value"))
    return _none_applicable(findings, "a disparity test")


def misrouting_rate(record: RunRecord, cfg: MisroutingCheck, ctx: Context) -> list[Finding]:
    """Neutral (routing) classes: the group whose rows of that class are most often sent elsewhere (1 - recall)."""
    if (missing := _no_fairness(record)) is not None:
        return missing
    use_ci, findings = _use_ci(cfg, ctx), []
    for subject, grouping in _groupings(record, cfg, ("neutral",)):
        judged = [(g, g.metrics["fnr"]) for g in grouping.groups if not (g.unknown or g.excluded or g.small)
                  and g.metrics.get("fnr") is not None and g.metrics["fnr"].value is not None]
        if not judged:
            findings.append(Finding(None, f"{subject}: no group large enough with rows of this class", key=subject))
            continue
        worst, est = max(judged, key=lambda item: _compared(item[1], use_ci, lower=False)[0])
        findings.append(_at_most(est, cfg.max, use_ci, f"{subject}={worst.group}: misrouting rate {est.value:.3f} "
                                 f"(n={worst.count})", key=subject, after=f" for class {grouping.outcome!r}"))
    return _none_applicable(findings, "misrouting (no neutral class)")


def counterfactual_flip_rate(record: RunRecord, cfg: FlipRateCheck, ctx: Context) -> list[Finding]:
    section = record.counterfactual
    if section is None:
        return [Finding(None, "record has no counterfactual section (counterfactual audit not run)")]
    families = [(f.family, f) for f in section.families]
    if cfg.templates:
        families += [(f.family if f.family.startswith("template") else f"templates/{f.family}", f)
                     for f in section.templates]
    if not families:
        return [Finding(None, "counterfactual section has no term families")]
    use_ci, findings = _use_ci(cfg, ctx), []
    for name, family in families:
        est = family.flip_rate
        if est.value is None or family.n_swapped == 0:
            findings.append(Finding(None, f"{name}: no example contained a swappable term", key=name))
            continue
        findings.append(_at_most(est, cfg.max, use_ci,
                                 f"{name}: flip rate {est.value:.3f} over {family.n_swapped} swapped examples", key=name))
    return findings


def sensitive_token_reliance(record: RunRecord, cfg: RelianceCheck, ctx: Context) -> list[Finding]:
    section = record.attribution
    if section is None:
        return [Finding(None, "record has no attribution section (attribution audit not run)")]
    est = section.reliance_share
    if est.value is None:
        return [Finding(None, f"reliance share undefined ({est.note or 'no value'})")]
    return [_at_most(est, cfg.max, _use_ci(cfg, ctx),
                     f"share of attribution on sensitive tokens {est.value:.3f} over {section.n_examples} examples",
                     note=f"; {section.method}")]


def macro_f1(record: RunRecord, cfg: MacroF1Check, ctx: Context) -> list[Finding]:
    if record.fairness is not None and record.fairness.overall is not None:
        metrics, where = record.fairness.overall, "audit evaluation set"
    elif record.train is not None and record.train.test is not None:
        metrics, where = record.train.test, "training test split"
    else:
        return [Finding(None, "record has no held-out metrics (no fairness.overall or train.test)")]
    ok = metrics.macro_f1 >= cfg.min
    return [Finding(ok, f"macro-F1 {metrics.macro_f1:.3f} on the {where} (n={metrics.n}) "
                        f"{'>=' if ok else '<'} {cfg.min:.2f}", measured=round(metrics.macro_f1, 6),
                    threshold=cfg.min, basis="point estimate")]


def _at_least(est: Estimate, limit: float, use_ci: bool, what: str, *, key: str | None = None,
              after: str = "") -> Finding:
    """A finding for 'value >= limit' on an estimate (its CI lower bound when asked), with the evidence text."""
    value, basis = _compared(est, use_ci, lower=True)
    ok = value >= limit
    return Finding(ok, f"{what} ({_ci_text(est)}; {basis} {value:.3f} {'>=' if ok else '<'} {limit:.2f}){after}",
                   key=key, measured=round(value, 6), threshold=limit, basis=basis, ci_low=est.ci_low,
                   ci_high=est.ci_high)


def entity_f1(record: RunRecord, cfg: EntityF1Check, ctx: Context) -> list[Finding]:
    section = record.entities
    if section is None:
        return [Finding(None, "record has no entity metrics (task: token_classification, `govaudit train` / `audit`)")]
    metrics = getattr(section, cfg.scheme)
    subjects = [("micro", metrics.micro)] + [(e, metrics.per_entity.get(e)) for e in cfg.entities]
    findings, use_ci = [], _use_ci(cfg, ctx)
    for name, score in subjects:
        if score is None or score.f1.value is None:
            why = "type not in the evaluation" if score is None else (score.f1.note or "undefined")
            findings.append(Finding(None, f"{name}: {cfg.scheme} entity F1 undefined ({why})", key=name))
            continue
        findings.append(_at_least(score.f1, cfg.min, use_ci, f"{name}: {cfg.scheme} entity F1 {score.f1.value:.3f} "
                                  f"over {score.support} entities", key=name, after=f" on {section.split}"))
    return findings


def entity_recall_parity(record: RunRecord, cfg: EntityParityCheck, ctx: Context) -> list[Finding]:
    section = record.entity_parity
    if section is None:
        return [Finding(None, "record has no entity-recall parity section (token classifier audit not run)")]
    families = [f for f in section.families if not cfg.families or f.family in cfg.families]
    if not families:
        return [Finding(None, "entity-recall parity has no name family to judge")]
    findings, use_ci = [], _use_ci(cfg, ctx)
    for family in families:
        est = family.recall_ratio
        if est.value is None:
            findings.append(Finding(None, f"{family.family}: recall ratio undefined ({est.note})", key=family.family))
            continue
        pair = (f"{family.lowest_group} names / {family.highest_group} names"
                if family.lowest_group != family.highest_group else "every group's names (all equal)")
        finding = _at_least(est, cfg.min_ratio, use_ci, f"{family.family}: {section.entity} recall of {pair} "
                            f"{est.value:.3f}",
                            key=family.family, after=f" over {section.n_docs} documents")
        finding.subject = f"{family.family}={family.lowest_group}"
        findings.append(finding)
    return findings


def span_flip_rate(record: RunRecord, cfg: SpanFlipCheck, ctx: Context) -> list[Finding]:
    section = record.span_flips
    if section is None:
        return [Finding(None, "record has no span-flip section (token classifier audit with name swaps not run)")]
    families = [f for f in section.families if not cfg.families or f.family in cfg.families]
    if not families:
        return [Finding(None, "span flips have no name family to judge")]
    findings, use_ci = [], _use_ci(cfg, ctx)
    for family in families:
        est = family.highest_flip_rate
        if est.value is None:
            findings.append(Finding(None, f"{family.family}: no swap could be scored", key=family.family))
            continue
        group = next(g for g in family.groups if g.group == family.highest_group)
        finding = _at_most(est, cfg.max, use_ci, f"{family.family}: {family.highest_group} names change the predicted "
                           f"entities in {est.value:.3f} of {group.swaps} swaps", key=family.family,
                           after=f" over {section.n_docs} documents")
        finding.subject = f"{family.family}={family.highest_group}"
        findings.append(finding)
    return findings


def span_name_reliance(record: RunRecord, cfg: SpanNameRelianceCheck, ctx: Context) -> list[Finding]:
    section = record.span_attribution
    if section is None:
        return [Finding(None, "record has no span attribution section (token classifier attribution not run)")]
    est = section.name_share
    if est.value is None:
        return [Finding(None, f"name share undefined ({est.note or 'no span of another type than the person type'})")]
    others = sum(t.n_spans for t in section.per_type if t.name_share is not None)
    return [_at_most(est, cfg.max, _use_ci(cfg, ctx), f"share of the attribution of {others} non-{section.person_label} "
                     f"spans on person-name words {est.value:.3f}", note=f"; {section.method}")]


def pii_recall(record: RunRecord, cfg: PiiRecallCheck, ctx: Context) -> list[Finding]:
    section = record.pii_evaluation
    if section is None:
        return [Finding(None, "record has no PII-recall evaluation (run `govaudit scrub --evaluate LABELLED.jsonl`)")]
    names = cfg.entities or sorted(section.per_entity)
    findings, use_ci = [], _use_ci(cfg, ctx)
    for name in names:
        score = section.per_entity.get(name)
        if score is None or score.recall.value is None:
            findings.append(Finding(None, f"{name}: not in the labelled sample", key=name))
        elif score.support < cfg.min_support:
            findings.append(Finding(None, f"{name}: {score.support} labelled values, fewer than min_support "
                                          f"{cfg.min_support}", key=name))
        else:
            findings.append(_at_least(score.recall, cfg.min, use_ci, f"{name}: scrubber recall {score.recall.value:.3f} "
                                      f"over {score.support} labelled values", key=name,
                                      after=f" ({section.n_docs} documents, mode {section.mode})"))
    return findings


def residual_pii(record: RunRecord, cfg: ResidualPiiCheck, ctx: Context) -> list[Finding]:
    if record.scrub is None:
        return [Finding(None, "record has no scrub section (training data was not scrubbed by govaudit)")]
    residual = record.scrub.residual
    if residual is None:
        return [Finding(None, "the residual PII scan after scrubbing was not run (scrub.residual_check: false)")]
    found = sum(residual.found.values())
    kinds = ", ".join(f"{kind}={n}" for kind, n in sorted(residual.found.items()) if n) or "none"
    ok = found <= cfg.max_found
    return [Finding(ok, f"{found} PII entities found in {residual.rows_scanned} scrubbed rows ({kinds}); "
                        f"allowed {cfg.max_found}", measured=found, threshold=cfg.max_found)]


def no_training_waiver(record: RunRecord, cfg: CheckConfig, ctx: Context) -> list[Finding]:
    if record.train is None:
        return [Finding(None, "record has no train section")]
    waiver = record.train.waiver
    if waiver is None:
        scrubbed = f"scrub run {record.train.scrub_run_id}" if record.train.scrub_run_id else "scrubbed data"
        return [Finding(True, f"trained on {scrubbed}, no waiver", measured="none", threshold="none")]
    return [Finding(False, f"trained on unscrubbed data under a waiver by {waiver.by} at {waiver.at}: {waiver.reason}",
                    measured="waiver", threshold="none")]


def reviewer_signoff(record: RunRecord, cfg: SignoffCheck, ctx: Context) -> list[Finding]:
    if ctx.signoff is None or ctx.subject_sha256 is None:
        return [Finding(None, "no sign-off ledger available")]
    approval = ctx.signoff.approval(record.run_id, ctx.subject_sha256, owner=run_owner(record),
                                    min_approvals=cfg.min_approvals, max_age_days=cfg.expires_after_days,
                                    check=ctx.ledger)
    short = ctx.subject_sha256[:12]
    threshold = "approved" if cfg.min_approvals == 1 else f"{cfg.min_approvals} approvals"
    if approval.broken:
        return [Finding(False, f"{approval.reason}; restore the ledger (`govaudit dashboard verify-ledger`)",
                        measured="trail broken", threshold=threshold, blocks=True)]
    text = (f"{approval.reason} (evidence sha256 {short}…)" if approval.ok else
            f"{approval.reason} (evidence sha256 {short}…); approve it in `govaudit dashboard` or `govaudit signoff`")
    return [Finding(approval.ok, text, measured="approved" if approval.ok else "not approved", threshold=threshold)]


def _listed(items: list[str], limit: int = 5) -> str:
    return "; ".join(items[:limit]) + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def monitoring(record: RunRecord, cfg: MonitoringGateCheck, ctx: Context) -> list[Finding]:
    """Open monitoring alerts (and, with `last_windows`, alerts of the last windows, closed or not) of the run's
    `<RUN>.monitor` child run."""
    section, run = ctx.monitoring, ctx.monitoring_run or f"{record.run_id}.monitor"
    if section is None:
        return [Finding(None, f"no monitoring of this run yet (run `govaudit monitor --run {record.run_id} --log ...`, "
                              f"which writes {run})")]
    evaluated = datetime.fromisoformat(section.evaluated_at).date()
    age = (ctx.today - evaluated).days if ctx.today else 0
    if cfg.max_age_days is not None and age > cfg.max_age_days:
        return [Finding(None, f"monitoring in {run} is stale: evaluated {section.evaluated_at}, {age} days ago "
                              f"(max_age_days {cfg.max_age_days})")]
    kind = "alert(s) and warning(s)" if cfg.count_warnings else "alert(s)"
    where = f"in {run} (policy {section.policy_name}, {len(section.windows)} window(s), evaluated {section.evaluated_at})"
    found = open_alerts(section.alerts, warnings=cfg.count_warnings)
    named = [f"{a.window} {a.check}" + (f" [{a.subject}]" if a.subject else "") for a in found]
    ok = len(found) <= cfg.max_open_alerts
    findings = [Finding(ok, f"{len(found)} open monitoring {kind} {where}, allowed {cfg.max_open_alerts}"
                            + (f": {_listed(named)}" if named else ""), key="open alerts", measured=len(found),
                        threshold=cfg.max_open_alerts, basis="open alerts")]
    if cfg.last_windows:
        recent = recent_alerts(section, cfg.last_windows, warnings=cfg.count_warnings)
        windows = sorted({w for w, _ in recent})
        findings.append(Finding(not recent, f"{len(windows)} of the last {min(cfg.last_windows, len(section.windows))}"
                                f" window(s) {where} alerted, open or closed"
                                + (f": {_listed([f'{w} {c}' for w, c in recent])}" if recent else ""),
                                key=f"last {cfg.last_windows} windows", measured=len(windows), threshold=0,
                                basis="windows with an alert"))
    return findings


CHECKS: dict[str, CheckFn] = {
    "impact_ratio": impact_ratio,
    "demographic_parity_difference": _disparity("demographic_parity_difference", SELECTION),
    "equalized_odds_difference": _disparity("equalized_odds_difference"),
    "true_positive_rate_difference": _disparity("true_positive_rate_difference"),
    "false_positive_rate_difference": _disparity("false_positive_rate_difference"),
    "misrouting_rate": misrouting_rate,
    "disparity_test": disparity_test,
    "counterfactual_flip_rate": counterfactual_flip_rate,
    "sensitive_token_reliance": sensitive_token_reliance,
    "macro_f1": macro_f1,
    "entity_f1": entity_f1,
    "entity_recall_parity": entity_recall_parity,
    "span_flip_rate": span_flip_rate,
    "span_name_reliance": span_name_reliance,
    "pii_recall": pii_recall,
    "residual_pii": residual_pii,
    "no_training_waiver": no_training_waiver,
    "reviewer_signoff": reviewer_signoff,
    "monitoring": monitoring,
}

TITLES = {
    "impact_ratio": "Impact ratio (four-fifths rule)",
    "demographic_parity_difference": "Demographic parity difference",
    "equalized_odds_difference": "Equalized odds difference (fairlearn worst case of TPR and FPR ranges)",
    "true_positive_rate_difference": "True-positive-rate range (equal opportunity / recall parity)",
    "false_positive_rate_difference": "False-positive-rate range (error parity of wrongful selections or flags)",
    "misrouting_rate": "Misrouting rate of routing classes (1 - recall, worst group)",
    "disparity_test": "Test of any disparity (permutation, multiple-comparison adjusted)",
    "counterfactual_flip_rate": "Counterfactual identity-swap flip rate",
    "sensitive_token_reliance": "Reliance on sensitive tokens (attribution share)",
    "macro_f1": "Macro-F1 on held-out data",
    "entity_f1": "Entity F1 of the token classifier on held-out data",
    "entity_recall_parity": "Entity recall parity across name groups",
    "span_flip_rate": "Name swaps that change predicted spans (worst group)",
    "span_name_reliance": "Reliance of other entity types on person names (attribution share)",
    "pii_recall": "PII recall of the scrubber on a labelled sample",
    "residual_pii": "No residual PII after scrubbing",
    "no_training_waiver": "No training on unscrubbed data (waiver)",
    "reviewer_signoff": "Reviewer sign-off",
    "monitoring": "Post-deployment monitoring: no open alerts",
}
