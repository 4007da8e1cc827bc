"""The report's content, built from the RunRecord alone: verdict, key findings, section status, regulatory
mapping, sign-offs. HTML, Markdown and JSON render this same content."""
from __future__ import annotations

import dataclasses
import hashlib
import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from audit.record import GroupingResult, PolicySection, RunRecord, texts_withheld, utc_now
from audit.record.status import (
    FOUR_FIFTHS,
    LABELS,
    GroupStatus,
    check_level,
    group_status,
    impact_check,
    level_counts,
    max_flip,
)

from ._charts import Bar
from ._entities import entity_tables
from ._format import est, num, pct, value_of
from ._regmap import LL144_PROVISION, NOT_ESTABLISHED, REGULATORY_MAP, SECTION_TITLES, ll144_categories

__all__ = ["REPORT_VERSION", "CHART_MAX_BARS", "charted_groups", "build_report", "record_digest", "evidence_digest",
           "sections_run", "texts_allowed", "swap_segments", "excerpt", "EXCERPT_CONTEXT", "normalise_signoffs",
           "grouping_bars", "is_intersection", "check_anchor", "grouping_anchor", "check_sentence", "ll144_excluded"]

REPORT_VERSION = 1
_SIGNOFF_KEYS = {
    "at": ("at", "decided_at", "timestamp", "created_at", "time"),
    "by": ("by", "reviewer", "user", "signer", "actor", "name"),
    "auth": ("auth",),
    "decision": ("decision", "status", "outcome", "verdict"),
    "comment": ("comment", "reason", "rationale", "note", "notes"),
    "record_sha256": ("record_sha256", "sha256"),
}


def record_digest(record: RunRecord) -> str:
    """SHA-256 of the record as the store writes it (use RunStore.record_sha256 for a stored run)."""
    return hashlib.sha256(record.to_json().encode("utf-8")).hexdigest()


def is_intersection(grouping: GroupingResult) -> bool:
    return len(grouping.features) > 1


def sections_run(record: RunRecord) -> dict[str, bool]:
    """Which report sections have evidence in this record."""
    train, fairness = record.train, record.fairness
    return {
        "model": bool(record.model_card) or train is not None,
        "data": bool(record.inputs) or record.scrub is not None or (train is not None and bool(train.data)),
        "performance": (train is not None and (train.test or train.validation) is not None)
                       or (fairness is not None and fairness.overall is not None),
        "fairness": fairness is not None,
        "counterfactual": record.counterfactual is not None,
        "attribution": record.attribution is not None,
        "policy": record.policy is not None,
    }


def texts_allowed(record: RunRecord) -> tuple[bool, str | None]:
    """Example texts appear only for runs whose data went through a scrub that passed its residual check and whose
    model was not trained on unscrubbed data (`audit.record.texts_withheld`, the dashboard's rule too)."""
    why = texts_withheld(record)
    return why is None, why


def _pick(item: Mapping[str, Any], keys: Iterable[str]) -> Any:
    return next((item[k] for k in keys if item.get(k) not in (None, "")), None)


def evidence_digest(record: RunRecord) -> str | None:
    """The hash a sign-off binds to (record without its policy section and updated_at), if the policy module exists."""
    try:
        from audit.record.signoff import signoff_subject_sha256
    except ImportError:
        return None
    return signoff_subject_sha256(record)


def normalise_signoffs(decisions: Iterable[Any] | None, *hashes: str | None) -> list[dict[str, Any]]:
    """Accept sign-off decisions as ledger entries, mappings or pydantic models; keep who/when/decision/comment.
    `matches_record` says whether the decision was made on this record (its file hash or its evidence hash)."""
    rows = []
    for decision in decisions or []:
        if hasattr(decision, "model_dump"):
            item = decision.model_dump(mode="json")
        elif hasattr(decision, "as_dict"):
            item = decision.as_dict()
        elif dataclasses.is_dataclass(decision) and not isinstance(decision, type):
            item = dataclasses.asdict(decision)
        else:
            item = dict(decision)
        row = {key: _pick(item, names) for key, names in _SIGNOFF_KEYS.items()}
        row = {k: (str(v) if v is not None else None) for k, v in row.items()}
        sha = row["record_sha256"]
        row["matches_record"] = None if not sha else sha in {h for h in hashes if h}
        rows.append(row)
    return sorted(rows, key=lambda r: r["at"] or "")


CHART_MAX_BARS = 40


def charted_groups(grouping: GroupingResult, limit: int = CHART_MAX_BARS) -> list[Any]:
    """All groups, or for very many: the reference and the lowest impact ratios among large groups (table order)."""
    if len(grouping.groups) <= limit:
        return list(grouping.groups)
    ranked = sorted((g for g in grouping.groups
                     if not (g.small or getattr(g, "excluded", False) or getattr(g, "unknown", False))),
                    key=lambda g: (g.group != grouping.reference_group, value_of(g.impact_ratio) or 0.0))
    keep = {id(g) for g in ranked[:limit]}
    return [g for g in grouping.groups if id(g) in keep]


_BAR_STATE = {"excluded": "small", "ll144": "small", "reference": "ref", "fail": "bad", "warn": "bad"}


def ll144_excluded(grouping: GroupingResult, policy: PolicySection | None = None) -> list[Any]:
    """The groups whose status is `ll144` (under 2% of rows: excluded from the reference and the verdict)."""
    return [g for g in grouping.groups if group_status(policy, grouping, g).level == "ll144"]


def grouping_bars(grouping: GroupingResult, metric: str, policy: PolicySection | None = None) -> list[Bar]:
    """Chart rows for one grouping: selection rates ('selection_rate') or impact ratios ('impact_ratio'); bar colours
    follow `group_status` (the same status as the table and the findings)."""
    bars = []
    for group in charted_groups(grouping):
        estimate = group.impact_ratio if metric == "impact_ratio" else group.metrics.get(metric)
        value = value_of(estimate)
        state = _BAR_STATE.get(group_status(policy, grouping, group).level, "ok")
        bars.append(Bar(label=f"{group.group} (n={group.count:,})", value=value,
                        low=value_of(getattr(estimate, "ci_low", None)) if value is not None else None,
                        high=value_of(getattr(estimate, "ci_high", None)) if value is not None else None, state=state))
    return bars


_AT_LEAST = {"impact_ratio", "macro_f1"}
_CHECK_ANCHOR = {"counterfactual_flip_rate": "counterfactual", "sensitive_token_reliance": "attribution",
                 "macro_f1": "performance", "residual_pii": "data", "no_training_waiver": "data",
                 "reviewer_signoff": "signoff"}
_ON_MISSING = {"block": "blocks the verdict", "warn": "counts as a warning", "none": "does not affect the verdict"}


def grouping_anchor(record: RunRecord, subject: str | None) -> str | None:
    """The HTML id of a grouping's evidence (table, charts) for a check subject like 'age_group' or 'x [outcome]'."""
    for i, grouping in enumerate(record.fairness.groupings if record.fairness else []):
        if subject in (grouping.name, f"{grouping.name} [{grouping.outcome}]"):
            return f"grouping-{i}"
    return None


def check_anchor(record: RunRecord, check: Any) -> str:
    """Where a check's evidence is: its grouping for fairness checks, else its section."""
    base, _, key = check.id.partition(":")
    return (grouping_anchor(record, key) if key else None) or _CHECK_ANCHOR.get(base, "policy")


def _finding(level: str, section: str, text: str, *, check: str | None = None, href: str | None = None,
             group: tuple[str, str] | None = None) -> dict[str, Any]:
    """One key finding; `check` is the policy check it states, `group` the (grouping, group) it is about."""
    return {"level": level, "label": LABELS.get(level, level.upper()), "section": section, "text": text,
            "check": check, "href": href or ("appendix" if section == "notice" else section),
            "grouping": group[0] if group else None, "group": group[1] if group else None}


def check_sentence(check: Any) -> str:
    """A check result in plain words: what was measured, against which limit, on what basis, and the source."""
    about = f" ({check.subject})" if check.subject else ""
    if check_level(check) == "not-run":
        why = check.evidence.removeprefix("not run: ") or "no evidence in the record"
        return f"{check.title}{about} was not run: {why}; under the policy this {_ON_MISSING.get(check.effect, '')}."
    base = check.id.split(":", 1)[0]
    if check.measured is None or not isinstance(check.threshold, (int, float)):
        value = f"{check.evidence}"
    else:
        limit = "minimum" if base in _AT_LEAST else "maximum"
        ci = (f", CI {num(check.ci_low)}–{num(check.ci_high)}" if check.ci_low is not None and check.ci_high is not None
              else "")
        value = (f"measured {num(check.measured)} against the policy {limit} {num(check.threshold, 2)} "
                 f"({check.basis or 'value'}{ci})")
    waived = f"; waived: {check.waiver}" if check.waiver else ""
    source = f" Source: {check.source}." if check.source and check.effect == "block" else ""
    return f"{check.title}{about}: {value}{waived}.{source}"


def _policy_findings(record: RunRecord) -> list[dict[str, Any]]:
    if record.policy is None:
        return [_finding("info", "policy", "Policy not evaluated: there is no verdict for this run.")]
    out = []
    for check in record.policy.checks:
        level = check_level(check)
        base, _, key = check.id.partition(":")
        if level == "pass":
            continue
        if level != "not-run" and base == "impact_ratio" and grouping_anchor(record, key):
            continue  # said once per group below, by the fairness lines that share this status
        out.append(_finding(level, "policy", check_sentence(check), check=check.id, href=check_anchor(record, check)))
    for waiver in record.policy.expired_waivers:
        out.append(_finding("warn", "policy", f"Expired waiver: {waiver}."))
    return out


def _group_sentence(policy: PolicySection | None, grouping: GroupingResult, group: Any, status: GroupStatus) -> str:
    ir = group.impact_ratio
    limit = num(status.threshold, 2)
    high, low = value_of(getattr(ir, "ci_high", None)), value_of(getattr(ir, "ci_low", None))
    if status.basis.startswith("CI lower"):
        certainty = f"judged on the CI lower bound {num(low)}"
    elif high is not None and high >= status.threshold:
        certainty = f"point estimate; the interval reaches {limit}, so the shortfall is uncertain"
    else:
        certainty = f"point estimate; the whole interval is below {limit}"
    check = impact_check(policy, grouping)
    rule = f"check {status.check_id}" if status.check_id else "four-fifths rule, not gated by the policy"
    source = f" Source: {check.source}." if check is not None and check.source and status.level == "fail" else ""
    waived = " (waived)" if status.waived else ""
    flip = " Moving a single decision would change this verdict." if group.one_person_flip else ""
    return (f"{grouping.name} = {group.group}: impact ratio {est(ir)} is below {limit}{waived} ({certainty}; "
            f"n={group.count:,}; {rule}).{flip}{source}")


def _fairness_findings(record: RunRecord) -> list[dict[str, Any]]:
    fairness = record.fairness
    if fairness is None:
        return []
    out, small, failing, ll144 = [], 0, 0, []
    for i, grouping in enumerate(fairness.groupings):
        for group in grouping.groups:
            status = group_status(record.policy, grouping, group)
            small += status.level == "excluded" and (group.small or group.unknown)
            if status.level == "ll144":
                ll144.append(f"{grouping.name} = {group.group} (n={group.count:,}, {pct(group.share)})")
            if not status.below:
                continue
            failing += 1
            out.append(_finding(status.level, "fairness", _group_sentence(record.policy, grouping, group, status),
                                check=status.check_id, href=f"grouping-{i}", group=(grouping.name, group.group)))
    if not failing:
        out.append(_finding("ok", "fairness", f"Every group large enough for a verdict has an impact ratio of at least "
                                              f"{FOUR_FIFTHS} for outcome '{fairness.favorable_outcome}'."))
    if small:
        out.append(_finding("info", "fairness", f"{small} small or unknown-category group(s) are reported but "
                                                f"excluded from verdicts."))
    if ll144:
        out.append(_finding("info", "fairness", "Excluded under NYC LL144's 2% rule (not the reference, no verdict; "
                                                "counts reported): " + "; ".join(dict.fromkeys(ll144)) + "."))
    unknown = {k: v for k, v in fairness.unknown_counts.items() if v}
    if unknown:
        out.append(_finding("info", "fairness", "Rows with unknown sensitive value: "
                            + ", ".join(f"{k} {v:,}" for k, v in unknown.items()) + "."))
    if fairness.mitigation is not None:
        m = fairness.mitigation
        out.append(_finding("info", "fairness", f"Mitigation {m.method} ({m.constraint}) evaluated; accuracy cost "
                                                f"{num(m.accuracy_cost)}."))
    return out


def _other_findings(record: RunRecord) -> list[dict[str, str]]:
    out = []
    scrub, train = record.scrub, record.train
    if scrub is not None:
        entities = sum(sum(c.values()) for c in scrub.counts.values())
        if scrub.residual is not None and not scrub.residual.passed:
            found = ", ".join(f"{k} {v}" for k, v in scrub.residual.found.items())
            out.append(_finding("fail", "data", f"Residual PII after scrubbing: {found or 'entities found'} in "
                                                f"{scrub.residual.rows_scanned:,} rows re-scanned."))
        else:
            checked = (f"; residual check passed on {scrub.residual.rows_scanned:,} rows" if scrub.residual
                       else "; no residual check")
            out.append(_finding("ok", "data", f"Scrubbed {scrub.rows_total:,} rows ({pct(scrub.share_rows_touched)} "
                                              f"touched), {entities:,} entities replaced ({scrub.mode} mode){checked}."))
    elif train is not None:
        out.append(_finding("warn", "data", "No scrub record in this run: training data were not scrubbed here."))
    if train is not None and train.waiver is not None:
        w = train.waiver
        out.append(_finding("warn", "data", f"Trained on unscrubbed data under a waiver by {w.by} at {w.at}: {w.reason}."))
    metrics = (train.test if train else None) or (record.fairness.overall if record.fairness else None)
    if metrics is not None:
        out.append(_finding("info", "performance", f"Accuracy {num(metrics.accuracy)}, macro-F1 {num(metrics.macro_f1)}, "
                                                   f"ECE {num(metrics.ece)} on {metrics.n:,} held-out rows."))
    worst = max_flip(record.counterfactual)
    if worst is not None:
        out.append(_finding("info", "counterfactual", f"Identity swaps flip {pct(worst.rate)} of decisions at most "
                                                      f"(family {worst.family})."))
    attr = record.attribution
    if attr is not None:
        out.append(_finding("info", "attribution", f"Sensitive-token reliance {est(attr.reliance_share)} of attribution."))
        if attr.large_delta_count:
            out.append(_finding("warn", "attribution", f"{attr.large_delta_count} attribution(s) have a large "
                                                       f"convergence delta: treat their heat maps with care."))
    for notice in record.notices:
        out.append(_finding("warn", "notice", f"[{notice.stage}] {notice.message}"))
    return out


def _ll144_status(status: str, features: list[str]) -> tuple[str, str]:
    """LL144 asks for sex and race/ethnicity categories and their intersection: 'evidence present' only if the audit
    covered both (recognised by feature name), 'partial' for one, 'categories not audited' for neither."""
    found = ll144_categories(features)
    covered = [name for name, columns in found.items() if columns]
    listed = "; ".join(f"{name}: {', '.join(columns)}" for name, columns in found.items() if columns)
    note = (f"Features audited in this run: {', '.join(features) or 'none'}. The law asks for sex and race/ethnicity "
            f"categories and their intersection; recognised by name: {listed or 'neither'}.")
    if len(covered) == 2:
        return status, note
    return ("partial" if covered else "categories not audited"), note


def _regulatory_rows(record: RunRecord, run: Mapping[str, bool]) -> list[dict[str, Any]]:
    features = sorted({f for g in record.fairness.groupings for f in g.features}) if record.fairness else []
    rows = []
    for provision, asks, sections in REGULATORY_MAP:
        present = [s for s in sections if run.get(s)]
        status = "evidence present" if len(present) == len(sections) else ("partial" if present else "not run")
        note = None
        if provision == LL144_PROVISION and record.fairness is not None:
            status, note = _ll144_status(status, features)
        rows.append({"provision": provision, "asks": asks, "status": status, "note": note,
                     "sections": [{"key": s, "title": SECTION_TITLES[s], "run": bool(run.get(s))} for s in sections]})
    return rows


def _verdict(record: RunRecord) -> dict[str, Any]:
    policy = record.policy
    counts = level_counts(policy)
    if policy is None:
        return {"status": "not evaluated", "policy": None, "failed": [], "warned": [], "not_run": [],
                "evaluated_at": None, "counts": counts, "total": 0, "use_case": None, "rationale": ""}
    by_level = {level: [c.id for c in policy.checks if check_level(c) == level] for level in ("fail", "warn", "not-run")}
    return {"status": policy.verdict, "policy": policy.policy_name, "evaluated_at": policy.evaluated_at,
            "use_case": policy.use_case, "rationale": policy.rationale, "failed": by_level["fail"], "warned": by_level["warn"], "not_run": by_level["not-run"],
            "counts": counts, "total": len(policy.checks)}


def _signoff_state(signoffs: list[dict[str, Any]], problems: list[str]) -> dict[str, Any]:
    """The latest reviewer decision on this record (or on another version of it), and whether the ledger holds."""
    latest = signoffs[-1] if signoffs else None
    if latest is None:
        text = "No reviewer has signed off this run."
    else:
        which = {True: "this record", False: "a different version of the record", None: "an unstated record"}
        text = (f"Latest decision: {latest['decision'] or '–'} by {latest['by'] or '–'} at {latest['at'] or '–'} "
                f"on {which[latest['matches_record']]}.")
    if problems:
        text += " The sign-off ledger failed verification."
    state = "broken" if problems else "none" if latest is None else (latest["decision"] or "unknown")
    return {"state": state, "text": text, "current": bool(latest and latest["matches_record"])}


def _strip_texts(dumped: dict[str, Any]) -> None:
    withheld = "[withheld]"
    for family in (dumped.get("counterfactual") or {}).get("families", []) + \
                  (dumped.get("counterfactual") or {}).get("templates", []):
        for example in family.get("worst_examples", []):
            example["original"] = example["swapped"] = withheld
            example["original_spans"] = example["swapped_spans"] = []
    for key in ("top_reliance_examples", "highlighted_examples"):
        for example in (dumped.get("attribution") or {}).get(key, []):
            example["words"] = [withheld] * len(example.get("words", []))


def build_report(record: RunRecord, record_sha256: str | None = None, *, signoffs: Iterable[Any] | None = None,
                 ledger_problems: Iterable[str] | None = None, include_texts: bool | None = None,
                 runs_root: str = "runs") -> dict[str, Any]:
    """Everything the renderers show, as plain data plus the record itself under 'record'."""
    sha = record_sha256 or record_digest(record)
    evidence = evidence_digest(record)
    allowed, why = texts_allowed(record)
    show = allowed if include_texts is None else (include_texts and allowed)
    run = sections_run(record)
    dumped = record.model_dump(mode="json")
    if not show:
        _strip_texts(dumped)
    signed = normalise_signoffs(signoffs, sha, evidence)
    problems = list(ledger_problems or [])
    findings = _policy_findings(record) + _fairness_findings(record) + _other_findings(record)
    return {
        "report_version": REPORT_VERSION,
        "generated_at": utc_now(),
        "run": {"run_id": record.run_id, "name": record.name, "status": record.status, "created_at": record.created_at,
                "updated_at": record.updated_at, "stages": list(record.stages), "parent_run_id": record.parent_run_id,
                "schema_version": record.schema_version, "record_sha256": sha,
                "evidence_sha256": evidence},
        "verdict": _verdict(record),
        "findings": findings,
        "summary": {"open": sorted((f for f in findings if f["level"] in ("fail", "warn")), key=lambda f: f["level"] != "fail"),
                    "not_tested": [f for f in findings if f["level"] == "not-run"],
                    "other": [f for f in findings if f["level"] not in ("fail", "warn", "not-run")],
                    "signoff": _signoff_state(signed, problems)},
        "sections_run": run,
        "sections_not_run": [SECTION_TITLES[k] for k, done in run.items() if not done],
        "texts_shown": show,
        "texts_withheld_reason": None if show else (why or "example texts were turned off for this report"),
        "signoffs": signed,
        "ledger_problems": problems,
        "regulatory_map": _regulatory_rows(record, run),
        "entity_tables": [dataclasses.asdict(t) for t in entity_tables(record)],
        "not_established": list(NOT_ESTABLISHED),
        "reproduce": {"command": shlex.join(record.command) if record.command else None,
                      "report": f"govaudit report {shlex.quote(record.run_id)} --runs-root {shlex.quote(runs_root)}",
                      "verify": f"sha256sum {shlex.quote(f'{runs_root}/{record.run_id}/record.json')}"},
        "record": dumped,
    }


EXCERPT_CONTEXT = 120  # characters of unchanged text kept on each side of a swap in the report's examples


def _cut(text: str, keep: int, *, head: bool) -> str:
    """The first (`head`) or last `keep` characters of `text`, cut at a space, with '…' where text was left out;
    runs of white space (paragraph breaks) shown as one space."""
    text = re.sub(r"\s+", " ", text)
    if len(text) <= keep:
        return text
    if head:
        part = text[:keep]
        return (part[:part.rfind(" ")] if " " in part else part) + " …"
    part = text[-keep:]
    return "… " + (part[part.find(" ") + 1:] if " " in part else part)


def swap_segments(example: Any, context: int = EXCERPT_CONTEXT) -> list[tuple[str, str, str]] | None:
    """A swap example as one excerpt: [(unchanged text, original words, swapped words), ...], the swapped words of
    each span shown beside the words they replace, and at most `context` characters of unchanged text kept around
    each swap ('…' marks what was left out; the full texts stay in the record). None when the two texts differ
    outside their spans (then both are shown, cut to 2 × `context`). The swapped text is exactly the original with
    each span replaced, so nothing but the excerpting is lost."""
    before, after = getattr(example, "original_spans", None) or [], getattr(example, "swapped_spans", None) or []
    original, swapped = example.original, example.swapped
    if not before or len(before) != len(after):
        return None
    same, changes, i, j = [], [], 0, 0
    for (b0, b1), (a0, a1) in zip(sorted(before), sorted(after)):
        if b0 < i or a0 < j or original[i:b0] != swapped[j:a0]:
            return None
        same.append(original[i:b0])
        changes.append((original[b0:b1], swapped[a0:a1]))
        i, j = b1, a1
    if original[i:] != swapped[j:]:
        return None
    same.append(original[i:])
    out = []
    for k, text in enumerate(same):
        if k == 0:
            text = _cut(text, context, head=False)
        elif k == len(same) - 1:
            text = _cut(text, context, head=True)
        elif len(text) > 2 * context + 5:
            text = _cut(text[:context + 40], context, head=True) + " " + _cut(text[-context - 40:], context, head=False)
        out.append((text, *changes[k]) if k < len(changes) else (text, "", ""))
    return out


def excerpt(text: str, context: int = EXCERPT_CONTEXT) -> str:
    """The start of a text for the report's examples (2 × `context` characters, '…' if cut)."""
    return _cut(text, 2 * context, head=True)
