"""Comparison of two runs (before/after mitigation, old/new model): metric deltas and verdict changes.

Every status shown (a group's four-fifths level, a check's level) comes from audit.record.status, as in the run
report and the dashboard, never from the record's own `four_fifths_pass` flag.
"""
from __future__ import annotations

from typing import Any

from audit.record import GroupingResult, GroupResult, RunRecord, utc_now
from audit.record.status import check_level, group_status, max_flip

from ._format import value_of
from ._model import REPORT_VERSION, record_digest, sections_run

__all__ = ["build_comparison"]


def _headline(record: RunRecord) -> dict[str, float | None]:
    train, fairness, cf, attr = record.train, record.fairness, record.counterfactual, record.attribution
    metrics = (train.test if train else None) or (fairness.overall if fairness else None)
    ratios = [value_of(g.impact_ratio) for gr in (fairness.groupings if fairness else []) for g in gr.groups
              if group_status(record.policy, gr, g).level != "excluded" and value_of(g.impact_ratio) is not None]
    worst = max_flip(cf)
    return {
        "accuracy": metrics.accuracy if metrics else None,
        "macro_f1": metrics.macro_f1 if metrics else None,
        "ece": metrics.ece if metrics else None,
        "min_impact_ratio": min(ratios) if ratios else None,
        "max_flip_rate": worst.rate if worst else None,
        "sensitive_reliance": value_of(attr.reliance_share) if attr else None,
        "rows_touched_by_scrub": record.scrub.share_rows_touched if record.scrub else None,
    }


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _groups(record: RunRecord) -> dict[tuple[str, str], tuple[GroupingResult, GroupResult]]:
    if record.fairness is None:
        return {}
    return {(gr.name, g.group): (gr, g) for gr in record.fairness.groupings for g in gr.groups}


def _level(record: RunRecord, entry: tuple[GroupingResult, GroupResult] | None) -> str | None:
    """The group's four-fifths level ('fail', 'warn', 'pass', 'not-run', 'excluded', 'reference'), None if absent."""
    return None if entry is None else group_status(record.policy, *entry).level


def _passes(level: str | None) -> bool | str | None:
    """The level as pass (True) / below the minimum (False); other levels as they are."""
    return {"pass": True, "fail": False, "warn": False}.get(level, level) if level else None


def _group_rows(base: RunRecord, other: RunRecord) -> list[dict[str, Any]]:
    """Per group: selection rate and impact ratio before/after, and the four-fifths status of each run (`status`: the
    level from audit.record.status; `four_fifths`: the same as pass True / below False)."""
    before, after = _groups(base), _groups(other)
    rows = []
    for key in list(before) + [k for k in after if k not in before]:
        b, a = (entry[1] if entry else None for entry in (before.get(key), after.get(key)))
        row: dict[str, Any] = {"grouping": key[0], "group": key[1]}
        for metric in ("selection_rate", "impact_ratio"):
            vb = value_of(b.impact_ratio if metric == "impact_ratio" else b.metrics.get(metric)) if b else None
            va = value_of(a.impact_ratio if metric == "impact_ratio" else a.metrics.get(metric)) if a else None
            row[metric] = {"before": vb, "after": va, "delta": _delta(vb, va)}
        levels = {"before": _level(base, before.get(key)), "after": _level(other, after.get(key))}
        row["status"] = levels
        row["four_fifths"] = {side: _passes(level) for side, level in levels.items()}
        row["changed"] = levels["before"] != levels["after"]
        rows.append(row)
    return rows


def _check_rows(base: RunRecord, other: RunRecord) -> list[dict[str, Any]]:
    before = {c.id: c for c in (base.policy.checks if base.policy else [])}
    after = {c.id: c for c in (other.policy.checks if other.policy else [])}
    rows = []
    for cid in list(before) + [c for c in after if c not in before]:
        b, a = before.get(cid), after.get(cid)
        rows.append({"id": cid, "title": (a or b).title,
                     "status": {"before": check_level(b) if b else None, "after": check_level(a) if a else None},
                     "measured": {"before": b.measured if b else None, "after": a.measured if a else None},
                     "changed": (check_level(b) if b else None) != (check_level(a) if a else None)})
    return rows


def build_comparison(base: RunRecord, other: RunRecord, base_sha256: str | None = None,
                     other_sha256: str | None = None) -> dict[str, Any]:
    """`base` is the earlier run (before), `other` the later (after); deltas are after - before."""
    hb, ho = _headline(base), _headline(other)
    runs = []
    for record, sha in ((base, base_sha256), (other, other_sha256)):
        runs.append({"run_id": record.run_id, "name": record.name, "created_at": record.created_at,
                     "record_sha256": sha or record_digest(record),
                     "verdict": record.policy.verdict if record.policy else "not evaluated",
                     "sections_run": sections_run(record)})
    return {
        "report_version": REPORT_VERSION,
        "kind": "comparison",
        "generated_at": utc_now(),
        "before": runs[0],
        "after": runs[1],
        "verdict_changed": runs[0]["verdict"] != runs[1]["verdict"],
        "metrics": [{"metric": k, "before": hb[k], "after": ho[k], "delta": _delta(hb[k], ho[k])} for k in hb],
        "groups": _group_rows(base, other),
        "checks": _check_rows(base, other),
    }
