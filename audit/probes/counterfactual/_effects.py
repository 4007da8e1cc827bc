"""Statistics over scored swap pairs: within-text term contrasts, per-axis / cross-axis results, worst examples.

Within-text contrast (docs/probes.md): every text (cluster) has versions, one per group its identity terms were
swapped to (plus the original). For version g of text i, c_i(g) = p_i(g) - mean_h p_i(h), the probability vector of
that version minus the text's mean over all its versions. A group's (or term's) effect is the mean of c_i over the
texts that have a version with it: it compares the term with the other terms *in the same texts*, so it does not
depend on which texts happened to mention which term.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from audit.core.config import CounterfactualConfig
from audit.record import AxisResult, SwapExample, TermEffect

from ._stats import bootstrap_mean

if TYPE_CHECKING:
    from ._section import Pair

__all__ = ["Scored", "term_effects", "axis_results", "worst_examples", "N_TERMS"]

N_TERMS = 10


@dataclass(frozen=True)
class Scored:
    probs: np.ndarray
    index: dict[str, int]
    target: int
    labels: list[str]

    def arrays(self, pairs: list["Pair"]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        before = self.probs[[self.index[p.before] for p in pairs]]
        after = self.probs[[self.index[p.after] for p in pairs]]
        shift = after[:, self.target] - before[:, self.target]
        flips = (before.argmax(1) != after.argmax(1)).astype(float)
        return before, after, shift, flips


def _effect(key: str, rows: list[tuple[str, np.ndarray]], scored: Scored, config: CounterfactualConfig,
            axis: str | None) -> TermEffect:
    clusters = np.array([c for c, _ in rows])
    matrix = np.stack([v for _, v in rows])
    est = bootstrap_mean(matrix[:, scored.target], clusters=clusters, n_boot=config.n_boot, seed=config.seed)
    return TermEffect(term=key, mean_shift=float(est.value), n=len(set(clusters.tolist())), ci_low=est.ci_low,
                      ci_high=est.ci_high, toward=scored.labels[int(matrix.mean(0).argmax())], axis=axis)


def term_effects(pairs: list["Pair"], scored: Scored, config: CounterfactualConfig,
                 axes: dict[str, str] | None = None) -> tuple[list[TermEffect], list[TermEffect]]:
    """(terms, groups): within-text contrasts of P(target); terms are the N_TERMS largest |effect|, highest first."""
    versions: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = defaultdict(dict)
    for p in pairs:
        if p.before_group != "mixed":
            versions[p.cluster].setdefault(p.before_group, (p.before, p.before_terms))
        if p.inserted_group != "mixed":
            versions[p.cluster].setdefault(p.inserted_group, (p.after, p.inserted_terms))
    by_group: dict[str, list] = defaultdict(list)
    by_term: dict[str, list] = defaultdict(list)
    term_group: dict[str, str] = {}
    for cluster, groups in versions.items():
        if len(groups) < 2:
            continue
        probs = scored.probs[[scored.index[text] for text, _ in groups.values()]]
        contrast = probs - probs.mean(0)
        for (group, (_, terms)), c in zip(groups.items(), contrast):
            by_group[group].append((cluster, c))
            for term in dict.fromkeys(terms):
                by_term[term].append((cluster, c))
                term_group.setdefault(term, group)
    axes = axes or {}
    groups = [_effect(g, rows, scored, config, axes.get(g)) for g, rows in by_group.items()]
    terms = [_effect(t, rows, scored, config, axes.get(term_group[t])) for t, rows in by_term.items()]
    terms = sorted(sorted(terms, key=lambda e: -abs(e.mean_shift))[:N_TERMS], key=lambda e: -e.mean_shift)
    return terms, sorted(groups, key=lambda e: -e.mean_shift)


def axis_results(pairs: list["Pair"], scored: Scored, config: CounterfactualConfig) -> list[AxisResult]:
    """Per axis of the replaced terms: all swaps, swaps within the axis, across axes, and to each other axis."""
    _, _, shift, flips = scored.arrays(pairs)
    clusters = np.array([p.cluster for p in pairs])
    source = np.array([p.from_axis for p in pairs])
    target = np.array([p.to_axis for p in pairs])
    out = []
    for axis in dict.fromkeys(source.tolist()):
        mine = source == axis
        subsets = [("all", mine), ("within", mine & (target == axis)), ("cross", mine & (target != axis))]
        subsets += [(to, mine & (target == to)) for to in dict.fromkeys(target[mine].tolist())]
        for to, mask in subsets:
            if not mask.any():
                continue
            boot = dict(clusters=clusters[mask], n_boot=config.n_boot, seed=config.seed)
            out.append(AxisResult(from_axis=axis, to_axis=to, n_pairs=int(mask.sum()),
                                  n_examples=len(set(clusters[mask].tolist())),
                                  flip_rate=bootstrap_mean(flips[mask], **boot),
                                  mean_abs_shift=bootstrap_mean(np.abs(shift[mask]), **boot)))
    return out


def worst_examples(pairs: list["Pair"], scored: Scored, config: CounterfactualConfig, *,
                   templates: bool) -> list[SwapExample]:
    """The `worst_k` largest shifts among flips and shifts of at least `worst_min_shift` (one per text pair)."""
    before, after, shift, flips = scored.arrays(pairs)
    keep = (flips > 0) | (np.abs(shift) >= config.worst_min_shift)
    order = [k for k in np.argsort(-np.abs(shift), kind="stable") if keep[k]]
    seen, worst = set(), []
    for k in order:
        if len(worst) >= config.worst_k:
            break
        p = pairs[k]
        key = frozenset((p.before, p.after)) if templates else (p.before, p.after)
        if key in seen:
            continue
        seen.add(key)
        t = scored.target
        worst.append(SwapExample(
            row_id=p.row_id, original=p.before, swapped=p.after, swaps=list(p.swaps),
            prob_before=float(before[k, t]), prob_after=float(after[k, t]),
            pred_before=scored.labels[int(before[k].argmax())], pred_after=scored.labels[int(after[k].argmax())],
            original_spans=[tuple(s) for s in p.before_spans], swapped_spans=[tuple(s) for s in p.after_spans]))
    return worst
