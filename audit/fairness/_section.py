"""The fairness section's group results, all computed from `GroupCounts`: point estimates, bootstrap intervals
(reference group fixed at its full-sample choice), range disparities, four-fifths verdicts and tests of disparity.

fairlearn's `MetricFrame` gives the same point estimates from the rows (tests check exact agreement); counting once
and working on the counts is what makes the section fast, mergeable across shards and cheap to resample.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.core.config import FairnessConfig
from audit.core.counts import GroupCounts
from audit.record import DisparityTest, Estimate, GroupingResult, GroupResult, GroupTest
from audit.record.status import evidence_level

from ._bootstrap import bootstrap_counts, percentile_ci
from ._disparity import DISPARITIES, disparities, four_fifths, one_person_flip, reference_index, versus_reference
from ._groups import Grouping, make_groupings
from ._inference import adjust, fisher_vs_rest, permutation_pvalue
from ._metrics import GROUP_METRICS, UNDEFINED_NOTES, macro_f1_from_confusion, rates_from_cells
from ._outcome import Outcome, StateCells, resolve_outcomes, state_cells

__all__ = ["GroupAudit", "group_audit", "audit_counts", "COMPARED", "TESTED"]

_CHUNK_CELLS = 4_000_000  # bootstrap counts held in memory at once (resamples x cells)
COMPARED = ("selection_rate", "tpr", "fpr")  # rates compared with the reference group (difference and ratio)
TESTED = ("selection_rate", "tpr", "fpr", "equalized_odds")  # rates tested for 'any disparity'


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

    def __init__(self, cells: StateCells, outcomes: list[Outcome], groupings: list[Grouping], n_fine: int,
                 n_labels: int, eligible: list[np.ndarray], n_total: int) -> None:
        self.outcomes, self.groupings, self.eligible, self.n_total = outcomes, groupings, eligible, n_total
        self.assign = [g.assignment(n_fine) for g in groupings]
        self.to_cells = {o.name: _onehot(cells.outcome_cell[o.name], 4) for o in outcomes}
        self.multiclass = n_labels > 2
        self.n_labels = n_labels
        self.refs: dict[tuple[int, str], int | None] = {}
        if self.multiclass:
            self.to_confusion = _onehot(cells.state_true * n_labels + cells.state_pred, n_labels * n_labels)

    def grouped_cells(self, counts: np.ndarray, gi: int, outcome: str) -> np.ndarray:
        """(b, groups, 4) counts of (TN, FP, FN, TP) for one grouping and outcome."""
        return np.einsum("bfm,fg->bgm", counts, self.assign[gi]) @ self.to_cells[outcome]

    def statistics(self, counts: np.ndarray) -> dict[tuple, np.ndarray]:
        """counts: (b, fine, state) -> {key: (b, ...)} for every metric, comparison and disparity."""
        out: dict[tuple, np.ndarray] = {}
        for gi, assign in enumerate(self.assign):
            grouped = np.einsum("bfm,fg->bgm", counts, assign)
            for outcome in self.outcomes:
                rates = rates_from_cells(grouped @ self.to_cells[outcome.name], self.n_total)
                for metric, values in rates.items():
                    out[gi, outcome.name, metric] = values
                ref = self.refs.get((gi, outcome.name))
                if ref is not None:
                    for metric in COMPARED:
                        diff, ratio = versus_reference(rates[metric], ref)
                        out[gi, outcome.name, "diff", metric] = diff
                        out[gi, outcome.name, "ratio", metric] = ratio
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


class _Intervals:
    """Percentile intervals of every bootstrap statistic, computed once per key for all its groups together."""

    def __init__(self, boot: dict[tuple, np.ndarray] | None, level: float) -> None:
        self.boot, self.level, self.cache = boot, level, {}

    def get(self, key: tuple, i: int | None) -> tuple[float, float, float] | None:
        if self.boot is None or key not in self.boot:
            return None
        if key not in self.cache:
            samples = self.boot[key]
            self.cache[key] = percentile_ci(samples.reshape(len(samples), -1), self.level)
        low, high, undefined = self.cache[key]
        j = 0 if i is None else i
        return float(low[j]), float(high[j]), float(undefined[j])


def _estimate(value: float | None, interval: tuple[float, float, float] | None,
              undefined_note: str | None = None) -> Estimate:
    if value is None or not np.isfinite(value):
        return Estimate(value=None, note=undefined_note or "undefined")
    if interval is None:
        return Estimate(value=float(value))
    low, high, undefined = interval
    if np.isnan(low):
        return Estimate(value=float(value), note="no bootstrap resample defined")
    note = f"undefined in {undefined:.0%} of bootstrap resamples" if undefined > 0 else None
    return Estimate(value=float(value), ci_low=low, ci_high=high, note=note)


def _disparity_note(name: str, eligible: np.ndarray) -> str:
    if eligible.sum() < 2:
        return "fewer than two groups large enough for a verdict (small, excluded and unknown groups are left out)"
    if name == "demographic_parity_ratio":
        return "no eligible group is selected (highest selection rate is 0)"
    return "undefined: a group has no actual positives or no actual negatives"


def _strata(cells: np.ndarray, test: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(successes, trials) per group of the rate a test is about; cells: (groups, 4) = TN, FP, FN, TP."""
    tn, fp, fn, tp = cells.T
    tpr, fpr = (tp, tp + fn), (fp, fp + tn)
    return {"selection_rate": [(fp + tp, cells.sum(axis=1))], "tpr": [tpr], "fpr": [fpr],
            "equalized_odds": [tpr, fpr]}[test]


@dataclass
class _Tests:
    """Raw p-values of one (grouping, outcome); adjusted later over the whole family."""

    omnibus: dict[str, tuple[float | None, float | None, int, str]]
    per_group: dict[str, np.ndarray]


def _run_tests(cells: np.ndarray, eligible: np.ndarray, n_perm: int, rng: np.random.Generator) -> _Tests:
    omnibus, per_group = {}, {}
    for test in TESTED:
        strata = [(s[eligible], t[eligible]) for s, t in _strata(cells, test)]
        strata = [(s[t > 0], t[t > 0]) for s, t in strata]
        n_groups = min(len(t) for _, t in strata)
        if n_groups < 2 or n_perm == 0:
            why = "fewer than two eligible groups with rows for this rate" if n_groups < 2 else "n_perm is 0"
            omnibus[test] = (None, None, n_groups, why)
        else:
            statistic, p = permutation_pvalue(strata, n_perm, rng)
            omnibus[test] = (statistic, p, n_groups, "")
        if test in COMPARED:
            (s, t), = _strata(cells, test)
            p_group = np.full(len(t), np.nan)
            usable = eligible & (t > 0)
            if usable.sum() >= 2:
                p_group[usable] = fisher_vs_rest(s[usable], t[usable])
            per_group[test] = p_group
    return _Tests(omnibus, per_group)


def group_audit(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], sensitive: pd.DataFrame,
                config: FairnessConfig, *, proba: np.ndarray | None = None,
                unknown_group: str = "unknown") -> GroupAudit:
    """Count the rows (`GroupCounts`), then `audit_counts`. Score outcomes: selected = P(favorable) above the median."""
    outcomes = resolve_outcomes(labels, config)
    score = threshold = None
    if config.outcome_kind == "score":
        if proba is None:
            raise ValueError("score outcomes need class probabilities")
        score = proba[:, list(outcomes[0].classes)].sum(axis=1)
        threshold = float(np.median(score))
    counts = GroupCounts.from_arrays(sensitive, y_true, y_pred, labels, score=score, threshold=threshold)
    return audit_counts(counts, config, unknown_group=unknown_group)


def audit_counts(counts: GroupCounts, config: FairnessConfig, *, unknown_group: str = "unknown") -> GroupAudit:
    """Group metrics, comparisons with the reference, impact ratios, four-fifths verdicts, range disparities and
    tests of disparity for every grouping and outcome, from the counts alone."""
    labels = list(counts.labels)
    outcomes = resolve_outcomes(labels, config)
    scored = counts.threshold is not None
    if scored != (config.outcome_kind == "score"):
        raise ValueError("score outcomes need counts with a score threshold, label outcomes counts without")
    cells = state_cells(len(labels), outcomes, scored=scored)
    fine = pd.DataFrame(list(counts.keys), columns=list(counts.features))
    groupings = make_groupings(fine, list(counts.features), intersections=config.intersections,
                               unknown_group=unknown_group)
    state_counts = counts.states()
    n = counts.n
    fine_sizes = state_counts.sum(axis=1)
    group_sizes = [fine_sizes @ g.assignment(len(fine)) for g in groupings]
    small = [s < config.min_group_size for s in group_sizes]
    excluded = [(s / max(n, 1)) < config.min_group_share for s in group_sizes]
    reference = [~ex & ~g.unknown for ex, g in zip(excluded, groupings)]
    eligible = [ref & ~sm for ref, sm in zip(reference, small)]
    plan = _Plan(cells, outcomes, groupings, len(fine), len(labels), eligible, n)
    point = plan.statistics(state_counts[None])
    for gi in range(len(groupings)):
        for outcome in outcomes:
            basis = "tpr" if outcome.direction == "neutral" else "selection_rate"
            plan.refs[gi, outcome.name] = reference_index(point[gi, outcome.name, basis][0], reference[gi])
    point = plan.statistics(state_counts[None])
    boot = _bootstrap(plan, state_counts, config.n_boot, config.seed) if config.n_boot > 0 else None
    rng = np.random.default_rng([config.seed, 1])
    tests = {(gi, o.name): _run_tests(plan.grouped_cells(state_counts[None], gi, o.name)[0], eligible[gi],
                                      config.n_perm, rng)
             for gi in range(len(groupings)) for o in outcomes}
    adjusted = _adjust_families(tests, config.correction)
    intervals = _Intervals(boot, config.ci_level)

    def est(key: tuple, i: int | None, note_if_undefined: str | None) -> Estimate:
        if key not in point:
            return Estimate(value=None, note=note_if_undefined)
        value = point[key][0] if i is None else point[key][0][i]
        return _estimate(float(value), intervals.get(key, i), note_if_undefined)

    results: list[GroupingResult] = []
    for gi, grouping in enumerate(groupings):
        for outcome in outcomes:
            key = (gi, outcome.name)
            ref = plan.refs[key]
            sizes = group_sizes[gi]
            grouped = plan.grouped_cells(state_counts[None], gi, outcome.name)[0]
            selected = grouped[:, 1] + grouped[:, 3]
            judged = outcome.direction != "neutral"
            if judged:
                verdict = four_fifths(selected, sizes, reference[gi], eligible[gi])
                flips = one_person_flip(selected, sizes, reference[gi], eligible[gi])
            else:
                verdict, flips = np.full(len(sizes), -1), np.zeros(len(sizes), dtype=bool)
            groups = []
            for i, name in enumerate(grouping.names):
                metrics = {}
                for m in GROUP_METRICS:
                    if m == "count":
                        metrics[m] = Estimate(value=float(point[gi, outcome.name, m][0][i]))
                        continue
                    metrics[m] = est((gi, outcome.name, m), i, UNDEFINED_NOTES.get(m))
                if plan.multiclass:
                    metrics["macro_f1"] = est((gi, "macro_f1"), i, UNDEFINED_NOTES["macro_f1"])
                why = _exclusion_note(grouping.unknown[i], excluded[gi][i], small[gi][i], int(sizes[i]), n, config)
                differences, ratios = {}, {}
                for m in COMPARED:
                    if i == ref:
                        differences[m] = Estimate(value=0.0, note="reference group")
                        ratios[m] = Estimate(value=1.0, note="reference group")
                    else:
                        differences[m] = est((*key, "diff", m), i, UNDEFINED_NOTES.get(m))
                        ratios[m] = est((*key, "ratio", m), i, "undefined: reference rate is 0 or group rate undefined")
                ir = None
                if judged:
                    ir = ratios["selection_rate"].model_copy() if ref is not None else Estimate(
                        value=None, note="no group can be the reference")
                    if i == ref:
                        ir = Estimate(value=1.0, ci_low=1.0, ci_high=1.0, note="reference group")
                    if why:
                        ir.note = f"{ir.note}; {why}" if ir.note else why
                group_tests = {m: GroupTest(p_value=_float(tests[key].per_group[m][i]),
                                            p_adjusted=_float(adjusted[(*key, m)][i])) for m in COMPARED}
                groups.append(GroupResult(
                    group=name, count=int(sizes[i]), share=float(sizes[i] / max(n, 1)), small=bool(small[gi][i]),
                    excluded=bool(excluded[gi][i]), unknown=bool(grouping.unknown[i]), metrics=metrics,
                    impact_ratio=ir, four_fifths_pass=None if verdict[i] < 0 else bool(verdict[i]),
                    one_person_flip=bool(flips[i]) if verdict[i] >= 0 else None, differences=differences,
                    ratios=ratios, tests=group_tests))
            disp = {d: est((*key, d), None, _disparity_note(d, eligible[gi])) for d in DISPARITIES}
            results.append(GroupingResult(
                name=grouping.name, features=grouping.features, outcome=outcome.name, direction=outcome.direction,
                groups=groups, disparities=disp, reference_group=grouping.names[ref] if ref is not None else None,
                four_fifths_failures=[grouping.names[i] for i in np.flatnonzero(verdict == 0)],
                tests=_grouping_tests(tests[key], adjusted, key, config)))
    return GroupAudit(outcomes=outcomes, groupings=results, score_threshold=counts.threshold)


def _float(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _exclusion_note(unknown: bool, excluded: bool, small: bool, size: int, n: int, config: FairnessConfig) -> str:
    reasons = []
    if unknown:
        reasons.append("unknown group: excluded from the reference and the verdict")
    if excluded:
        reasons.append(f"share {size / max(n, 1):.1%} < {config.min_group_share:.0%}: excluded from the impact ratio "
                       "reference and the verdict (LL144 2% rule)")
    if small:
        reasons.append(f"small group (n={size} < {config.min_group_size}): too small for a verdict")
    return "; ".join(reasons)


def _adjust_families(tests: dict[tuple[int, str], _Tests], method: str) -> dict[tuple, np.ndarray | float]:
    """Adjust p-values per (outcome, metric): the omnibus tests over groupings, the group tests over all groups of
    all groupings (features and intersections)."""
    out: dict[tuple, np.ndarray | float] = {}
    outcomes = sorted({o for _, o in tests})
    for outcome in outcomes:
        keys = [k for k in tests if k[1] == outcome]
        for test in TESTED:
            raw = np.array([np.nan if tests[k].omnibus[test][1] is None else tests[k].omnibus[test][1] for k in keys])
            for k, p in zip(keys, adjust(raw, method)):
                out[(*k, "omnibus", test)] = p
        for metric in COMPARED:
            flat = np.concatenate([tests[k].per_group[metric] for k in keys])
            adj = adjust(flat, method)
            start = 0
            for k in keys:
                size = len(tests[k].per_group[metric])
                out[(*k, metric)] = adj[start:start + size]
                start += size
    return out


def _grouping_tests(tests: _Tests, adjusted: dict, key: tuple, config: FairnessConfig) -> dict[str, DisparityTest]:
    out = {}
    for test, (statistic, p, n_groups, why) in tests.omnibus.items():
        result = DisparityTest(
            metric=test, method="permutation chi-square (multivariate hypergeometric)" +
                                (", stratified by true outcome" if test == "equalized_odds" else ""),
            statistic=statistic, p_value=p, p_adjusted=_float(adjusted[(*key, "omnibus", test)]), n_groups=n_groups,
            n_perm=config.n_perm if p is not None else 0)
        result.conclusion = {
            "not-tested": f"not tested: {why}",
            "evidence": f"disparity detected ({config.correction}-adjusted p < {config.alpha})",
            "no-evidence": f"no evidence of disparity at {config.alpha} ({config.correction}-adjusted)",
        }[evidence_level(result, config.alpha)]
        out[test] = result
    return out
