"""The fairness section's group results: MetricFrame point estimates + count-based bootstrap intervals."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.core.config import FairnessConfig
from audit.record import Estimate, GroupingResult, GroupResult

from ._bootstrap import bootstrap_counts, cell_counts, percentile_ci
from ._disparity import DISPARITIES, disparities, four_fifths, impact_ratios, one_person_flip, reference_index
from ._groups import Grouping, fine_groups, make_groupings
from ._metrics import (
    GROUP_METRICS,
    UNDEFINED_NOTES,
    macro_f1_frame,
    macro_f1_from_confusion,
    metric_frame,
    rates_from_cells,
)
from ._outcome import Outcome, RowStates, resolve_outcomes, row_states

__all__ = ["GroupAudit", "group_audit"]

_CHUNK_CELLS = 4_000_000  # bootstrap counts held in memory at once (resamples x cells)


@dataclass
class GroupAudit:
    outcomes: list[Outcome]
    groupings: list[GroupingResult]
    score_threshold: float | None


def _onehot(index: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((len(index), width), dtype=np.int64)
    out[np.arange(len(index)), index] = 1
    return out


class _Plan:
    """Everything needed to turn (b, fine, state) counts into every statistic of the section."""

    def __init__(self, states: RowStates, outcomes: list[Outcome], groupings: list[Grouping], n_fine: int,
                 n_labels: int, eligible: list[np.ndarray], n_total: int) -> None:
        self.outcomes, self.groupings, self.eligible, self.n_total = outcomes, groupings, eligible, n_total
        self.assign = [g.assignment(n_fine) for g in groupings]
        self.to_cells = {o.name: _onehot(states.outcome_cell[o.name], 4) for o in outcomes}
        self.multiclass = n_labels > 2
        self.n_labels = n_labels
        if self.multiclass:
            self.to_confusion = _onehot(states.state_true * n_labels + states.state_pred, n_labels * n_labels)

    def statistics(self, counts: np.ndarray) -> dict[tuple, np.ndarray]:
        """counts: (b, fine, state) -> {key: (b, ...)} for every metric, impact ratio and disparity."""
        out: dict[tuple, np.ndarray] = {}
        for gi, assign in enumerate(self.assign):
            grouped = np.einsum("bfm,fg->bgm", counts, assign)
            for outcome in self.outcomes:
                rates = rates_from_cells(grouped @ self.to_cells[outcome.name], self.n_total)
                for metric, values in rates.items():
                    out[gi, outcome.name, metric] = values
                out[gi, outcome.name, "impact_ratio"] = impact_ratios(rates["selection_rate"], self.eligible[gi])
                for name, values in disparities(rates, self.eligible[gi]).items():
                    out[gi, outcome.name, name] = values
            if self.multiclass:
                k = self.n_labels
                confusion = (grouped @ self.to_confusion).reshape(*grouped.shape[:2], k, k)
                out[gi, "macro_f1"] = macro_f1_from_confusion(confusion)
        return out


def _bootstrap(plan: _Plan, counts: np.ndarray, n_boot: int, seed: int) -> dict[tuple, np.ndarray]:
    chunk = max(1, _CHUNK_CELLS // max(counts.size, 1))
    rng = np.random.default_rng(seed)
    parts = [plan.statistics(bootstrap_counts(counts, min(chunk, n_boot - start), rng))
             for start in range(0, n_boot, chunk)]
    return {key: np.concatenate([p[key] for p in parts], axis=0) for key in parts[0]}


def _estimate(value: float | None, samples: np.ndarray | None, level: float, undefined_note: str | None = None) -> Estimate:
    if value is None or not np.isfinite(value):
        return Estimate(value=None, note=undefined_note or "undefined")
    note = None
    if samples is None:
        return Estimate(value=float(value))
    low, high, undefined = percentile_ci(samples[:, None], level)
    if np.isnan(low[0]):
        return Estimate(value=float(value), note="no bootstrap resample defined")
    if undefined[0] > 0:
        note = f"undefined in {undefined[0]:.0%} of bootstrap resamples"
    return Estimate(value=float(value), ci_low=float(low[0]), ci_high=float(high[0]), note=note)


def _by_group(frame, grouping: Grouping, column: str) -> np.ndarray:
    table = frame.by_group
    lookup = {(k if isinstance(k, tuple) else (k,)): v for k, v in table[column].items()}
    return np.array([lookup[key] for key in grouping.keys], dtype=float)


def _disparity_note(name: str, eligible: np.ndarray, rates: dict[str, np.ndarray]) -> str:
    if eligible.sum() < 2:
        return "fewer than two groups large enough for a verdict (small and unknown groups are excluded)"
    if name == "demographic_parity_ratio":
        return "no eligible group is selected (highest selection rate is 0)"
    return "undefined: a group has no actual positives or no actual negatives"


def group_audit(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], sensitive: pd.DataFrame,
                config: FairnessConfig, *, proba: np.ndarray | None = None,
                unknown_group: str = "unknown") -> GroupAudit:
    """Group metrics, impact ratios, four-fifths verdicts and disparities for every grouping and outcome."""
    outcomes = resolve_outcomes(labels, config)
    states = row_states(y_true, y_pred, len(labels), outcomes, kind=config.outcome_kind, proba=proba)
    features = list(sensitive.columns)
    fine = fine_groups(sensitive)
    groupings = make_groupings(fine, features, intersections=config.intersections, unknown_group=unknown_group)
    counts = cell_counts(fine.codes, states.state, len(fine.values), states.n_states)
    n = len(y_true)

    group_sizes = [np.bincount(g.fine_to_group[fine.codes], minlength=g.n_groups) for g in groupings]
    small = [(s < config.min_group_size) | (s / n < config.min_group_share) for s in group_sizes]
    eligible = [~sm & ~g.unknown for sm, g in zip(small, groupings)]
    plan = _Plan(states, outcomes, groupings, len(fine.values), len(labels), eligible, n)
    point = plan.statistics(counts[None])
    boot = _bootstrap(plan, counts, config.n_boot, config.seed) if config.n_boot > 0 else None
    level = config.ci_level

    def est(key: tuple, i: int | None, note_if_undefined: str | None) -> Estimate:
        value = point[key][0] if i is None else point[key][0][i]
        samples = None if boot is None else (boot[key] if i is None else boot[key][:, i])
        return _estimate(float(value), samples, level, note_if_undefined)

    results: list[GroupingResult] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn/fairlearn zero-division warnings: undefined values come from counts
        for gi, grouping in enumerate(groupings):
            sub = sensitive[grouping.features]
            f1 = _by_group(macro_f1_frame(y_true, y_pred, sub), grouping, "macro_f1") if plan.multiclass else None
            for outcome in outcomes:
                truth, decision = outcome.mask(y_true), states.decisions[outcome.name]
                frame = metric_frame(truth, decision, sub)
                reported = {m: _by_group(frame, grouping, m) for m in GROUP_METRICS if m != "share"}
                reported["share"] = reported["count"] / n
                sr = reported["selection_rate"]
                ref = reference_index(sr, eligible[gi])
                selected = np.round(sr * reported["count"]).astype(np.int64)
                verdict = four_fifths(selected, group_sizes[gi], eligible[gi])
                flips = one_person_flip(selected, group_sizes[gi], eligible[gi])
                groups = []
                for i, name in enumerate(grouping.names):
                    metrics = {}
                    for m in GROUP_METRICS:
                        defined = np.isfinite(point[gi, outcome.name, m][0][i])
                        value = float(reported[m][i]) if defined else None
                        if m == "count":
                            metrics[m] = Estimate(value=value)
                            continue
                        samples = None if boot is None else boot[gi, outcome.name, m][:, i]
                        metrics[m] = _estimate(value, samples, level, None if defined else UNDEFINED_NOTES.get(m))
                    if f1 is not None:
                        metrics["macro_f1"] = _estimate(float(f1[i]), None if boot is None else boot[gi, "macro_f1"][:, i],
                                                        level)
                    ir_note = None if eligible[gi][i] else ("unknown group: excluded from the verdict" if grouping.unknown[i]
                                                            else "small group: excluded from the verdict")
                    ir = est((gi, outcome.name, "impact_ratio"), i, "reference selection rate is 0")
                    if ir_note and ir.value is not None:
                        ir.note = f"{ir.note}; {ir_note}" if ir.note else ir_note
                    groups.append(GroupResult(
                        group=name, count=int(group_sizes[gi][i]), share=float(reported["share"][i]),
                        small=bool(small[gi][i]), unknown=bool(grouping.unknown[i]), metrics=metrics,
                        impact_ratio=ir, four_fifths_pass=None if verdict[i] < 0 else bool(verdict[i]),
                        one_person_flip=bool(flips[i]) if verdict[i] >= 0 else None))
                rates = {m: point[gi, outcome.name, m][0] for m in ("selection_rate", "tpr", "fpr")}
                disp = {d: est((gi, outcome.name, d), None, _disparity_note(d, eligible[gi], rates))
                        for d in DISPARITIES}
                results.append(GroupingResult(
                    name=grouping.name, features=grouping.features, outcome=outcome.name, groups=groups,
                    disparities=disp, reference_group=grouping.names[ref] if ref is not None else None,
                    four_fifths_failures=[grouping.names[i] for i in np.flatnonzero(verdict == 0)]))
    return GroupAudit(outcomes=outcomes, groupings=results, score_threshold=states.score_threshold)
