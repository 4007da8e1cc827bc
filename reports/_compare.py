"""Comparison of two runs (before/after mitigation, old/new model): metric deltas and verdict changes."""
from __future__ import annotations

from typing import Any

from audit.record import RunRecord, utc_now

from ._format import value_of
from ._model import REPORT_VERSION, record_digest, sections_run

__all__ = ["build_comparison"]


def _headline(record: RunRecord) -> dict[str, float | None]:
    train, fairness, cf, attr = record.train, record.fairness, record.counterfactual, record.attribution
    metrics = (train.test if train else None) or (fairness.overall if fairness else None)
    ratios = [value_of(g.impact_ratio) for gr in (fairness.groupings if fairness else []) for g in gr.groups
              if _fifths(g) != "excluded" and value_of(g.impact_ratio) is not None]
    return {
        "accuracy": metrics.accuracy if metrics else None,
        "macro_f1": metrics.macro_f1 if metrics else None,
        "ece": metrics.ece if metrics else None,
        "min_impact_ratio": min(ratios) if ratios else None,
        "max_flip_rate": cf.max_flip_rate if cf else None,
        "sensitive_reliance": value_of(attr.reliance_share) if attr else None,
        "rows_touched_by_scrub": record.scrub.share_rows_touched if record.scrub else None,
    }


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _groups(record: RunRecord) -> dict[tuple[str, str], Any]:
    if record.fairness is None:
        return {}
    return {(gr.name, g.group): g for gr in record.fairness.groupings for g in gr.groups}


def _fifths(group: Any) -> bool | str | None:
    if group is None:
        return None
    return "excluded" if group.small or getattr(group, "unknown", False) else group.four_fifths_pass


def _group_rows(base: RunRecord, other: RunRecord) -> list[dict[str, Any]]:
    before, after = _groups(base), _groups(other)
    rows = []
    for key in list(before) + [k for k in after if k not in before]:
        b, a = before.get(key), after.get(key)
        row: dict[str, Any] = {"grouping": key[0], "group": key[1]}
        for metric in ("selection_rate", "impact_ratio"):
            vb = value_of(b.impact_ratio if metric == "impact_ratio" else b.metrics.get(metric)) if b else None
            va = value_of(a.impact_ratio if metric == "impact_ratio" else a.metrics.get(metric)) if a else None
            row[metric] = {"before": vb, "after": va, "delta": _delta(vb, va)}
        row["four_fifths"] = {"before": _fifths(b), "after": _fifths(a)}
        row["changed"] = row["four_fifths"]["before"] != row["four_fifths"]["after"]
        rows.append(row)
    return rows


def _check_rows(base: RunRecord, other: RunRecord) -> list[dict[str, Any]]:
    before = {c.id: c for c in (base.policy.checks if base.policy else [])}
    after = {c.id: c for c in (other.policy.checks if other.policy else [])}
    rows = []
    for cid in list(before) + [c for c in after if c not in before]:
        b, a = before.get(cid), after.get(cid)
        rows.append({"id": cid, "title": (a or b).title,
                     "status": {"before": b.status if b else None, "after": a.status if a else None},
                     "measured": {"before": b.measured if b else None, "after": a.measured if a else None},
                     "changed": (b.status if b else None) != (a.status if a else None)})
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
