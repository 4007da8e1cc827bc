"""The report's content, built from the RunRecord alone: verdict, key findings, section status, regulatory
mapping, sign-offs. HTML, Markdown and JSON render this same content."""
from __future__ import annotations

import dataclasses
import hashlib
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from audit.record import GroupingResult, RunRecord, utc_now

from ._charts import Bar
from ._entities import entity_tables
from ._format import est, num, pct, value_of
from ._regmap import NOT_ESTABLISHED, REGULATORY_MAP, SECTION_TITLES

__all__ = ["REPORT_VERSION", "CHART_MAX_BARS", "charted_groups", "build_report", "record_digest", "evidence_digest",
           "sections_run", "texts_allowed", "normalise_signoffs", "grouping_bars", "is_intersection"]

REPORT_VERSION = 1
FOUR_FIFTHS = 0.8
_SIGNOFF_KEYS = {
    "at": ("at", "decided_at", "timestamp", "created_at", "time"),
    "by": ("by", "reviewer", "user", "signer", "actor", "name"),
    "role": ("role",),
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
    """Example texts appear only for runs whose data went through a scrub that passed its residual check."""
    if record.scrub is None:
        return False, "this run has no scrub record, so example texts may hold personal data"
    tables = [record.scrub, *getattr(record.scrub, "tables", {}).values()]
    if any(t.residual is not None and not t.residual.passed for t in tables):
        return False, "the residual PII check after scrubbing failed"
    if record.train is not None and record.train.waiver is not None:
        return False, "the model was trained on unscrubbed data under a waiver"
    return True, None


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
    ranked = sorted((g for g in grouping.groups if not (g.small or getattr(g, "unknown", False))),
                    key=lambda g: (g.group != grouping.reference_group, value_of(g.impact_ratio) or 0.0))
    keep = {id(g) for g in ranked[:limit]}
    return [g for g in grouping.groups if id(g) in keep]


def grouping_bars(grouping: GroupingResult, metric: str) -> list[Bar]:
    """Chart rows for one grouping: selection rates ('selection_rate') or impact ratios ('impact_ratio')."""
    bars = []
    for group in charted_groups(grouping):
        estimate = group.impact_ratio if metric == "impact_ratio" else group.metrics.get(metric)
        value = value_of(estimate)
        if group.small or getattr(group, "unknown", False):
            state = "small"
        elif group.group == grouping.reference_group:
            state = "ref"
        elif group.four_fifths_pass is False:
            state = "bad"
        else:
            state = "ok"
        bars.append(Bar(label=f"{group.group} (n={group.count:,})", value=value,
                        low=value_of(getattr(estimate, "ci_low", None)) if value is not None else None,
                        high=value_of(getattr(estimate, "ci_high", None)) if value is not None else None, state=state))
    return bars


def _finding(level: str, section: str, text: str) -> dict[str, str]:
    return {"level": level, "section": section, "text": text}


def _policy_findings(record: RunRecord) -> list[dict[str, str]]:
    if record.policy is None:
        return [_finding("info", "policy", "Policy not evaluated: there is no verdict for this run.")]
    out = []
    for check in record.policy.checks:
        effect = getattr(check, "effect", None)
        if check.status not in ("fail", "warn") and effect not in ("block", "warn"):
            continue
        level = "fail" if (effect == "block" or (check.status == "fail" and check.severity == "block")) else "warn"
        detail = f" (measured {num(check.measured)}, threshold {num(check.threshold)})" if check.measured is not None else ""
        waived = f"; waived: {check.waiver}" if check.waiver else ""
        status = check.status.replace("_", " ")
        out.append(_finding(level, "policy", f"Check {check.id} {status}: {check.title}{detail}{waived}."))
    for waiver in record.policy.expired_waivers:
        out.append(_finding("warn", "policy", f"Expired waiver: {waiver}."))
    return out


def _fairness_findings(record: RunRecord) -> list[dict[str, str]]:
    fairness = record.fairness
    if fairness is None:
        return []
    out, small, failing = [], 0, 0
    for grouping in fairness.groupings:
        for group in grouping.groups:
            excluded = group.small or getattr(group, "unknown", False)
            small += excluded
            if excluded or group.four_fifths_pass is not False:
                continue
            failing += 1
            ir = group.impact_ratio
            high = value_of(getattr(ir, "ci_high", None))
            sure = high is not None and high < FOUR_FIFTHS
            flip = " Moving a single decision would change this verdict." if group.one_person_flip else ""
            out.append(_finding("fail" if sure else "warn", "fairness",
                                f"{grouping.name} = {group.group}: impact ratio {est(ir)} is below {FOUR_FIFTHS} "
                                f"({'the whole interval is below' if sure else 'the interval reaches'} {FOUR_FIFTHS}; "
                                f"n={group.count:,}).{flip}"))
    if not failing:
        out.append(_finding("ok", "fairness", f"Every group large enough for a verdict has an impact ratio of at least "
                                              f"{FOUR_FIFTHS} for outcome '{fairness.favorable_outcome}'."))
    if small:
        out.append(_finding("info", "fairness", f"{small} small or unknown-category group(s) are reported but "
                                                f"excluded from verdicts."))
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
    cf = record.counterfactual
    if cf is not None and cf.families:
        worst = max(cf.families, key=lambda f: value_of(f.flip_rate) or 0.0)
        out.append(_finding("info", "counterfactual", f"Identity swaps flip {pct(value_of(worst.flip_rate))} of "
                                                      f"decisions at most (family {worst.family})."))
    attr = record.attribution
    if attr is not None:
        out.append(_finding("info", "attribution", f"Sensitive-token reliance {est(attr.reliance_share)} of attribution."))
        if attr.large_delta_count:
            out.append(_finding("warn", "attribution", f"{attr.large_delta_count} attribution(s) have a large "
                                                       f"convergence delta: treat their heat maps with care."))
    for notice in record.notices:
        out.append(_finding("warn", "notice", f"[{notice.stage}] {notice.message}"))
    return out


def _regulatory_rows(record: RunRecord, run: Mapping[str, bool]) -> list[dict[str, Any]]:
    features = sorted({f for g in record.fairness.groupings for f in g.features}) if record.fairness else []
    rows = []
    for provision, asks, sections in REGULATORY_MAP:
        present = [s for s in sections if run.get(s)]
        status = "evidence present" if len(present) == len(sections) else ("partial" if present else "not run")
        note = None
        if provision.startswith("NYC") and record.fairness is not None:
            note = (f"Features audited in this run: {', '.join(features) or 'none'}. The law asks for sex and "
                    f"race/ethnicity categories; check that they are among these.")
        rows.append({"provision": provision, "asks": asks, "status": status, "note": note,
                     "sections": [{"key": s, "title": SECTION_TITLES[s], "run": bool(run.get(s))} for s in sections]})
    return rows


def _verdict(record: RunRecord) -> dict[str, Any]:
    policy = record.policy
    if policy is None:
        return {"status": "not evaluated", "policy": None, "failed": [], "warned": [], "evaluated_at": None}
    return {"status": policy.verdict, "policy": policy.policy_name, "evaluated_at": policy.evaluated_at,
            "failed": [c.id for c in policy.checks if c.status == "fail"],
            "warned": [c.id for c in policy.checks if c.status == "warn"]}


def _strip_texts(dumped: dict[str, Any]) -> None:
    withheld = "[withheld]"
    for family in (dumped.get("counterfactual") or {}).get("families", []) + \
                  (dumped.get("counterfactual") or {}).get("templates", []):
        for example in family.get("worst_examples", []):
            example["original"] = example["swapped"] = withheld
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
    return {
        "report_version": REPORT_VERSION,
        "generated_at": utc_now(),
        "run": {"run_id": record.run_id, "name": record.name, "status": record.status, "created_at": record.created_at,
                "updated_at": record.updated_at, "stages": list(record.stages), "parent_run_id": record.parent_run_id,
                "schema_version": record.schema_version, "record_sha256": sha,
                "evidence_sha256": evidence},
        "verdict": _verdict(record),
        "findings": _policy_findings(record) + _fairness_findings(record) + _other_findings(record),
        "sections_run": run,
        "sections_not_run": [SECTION_TITLES[k] for k, done in run.items() if not done],
        "texts_shown": show,
        "texts_withheld_reason": None if show else (why or "example texts were turned off for this report"),
        "signoffs": normalise_signoffs(signoffs, sha, evidence),
        "ledger_problems": list(ledger_problems or []),
        "regulatory_map": _regulatory_rows(record, run),
        "entity_tables": [dataclasses.asdict(t) for t in entity_tables(record)],
        "not_established": list(NOT_ESTABLISHED),
        "reproduce": {"command": shlex.join(record.command) if record.command else None,
                      "report": f"govaudit report {shlex.quote(record.run_id)} --runs-root {shlex.quote(runs_root)}",
                      "verify": f"sha256sum {shlex.quote(f'{runs_root}/{record.run_id}/record.json')}"},
        "record": dumped,
    }
