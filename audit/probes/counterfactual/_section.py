"""Counterfactual identity swaps on evaluation texts and CheckList-style template probes (one batched prediction)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.core.config import CounterfactualConfig
from audit.core.console import info
from audit.core.errors import BadInputError
from audit.core.model_io import LoadedClassifier, predict_proba
from audit.record import CounterfactualSection, Estimate, FamilyResult, SwapExample, TermEffect

from ._stats import bootstrap_mean
from ._swap import Swapper
from .terms import TermFamily, TermLists, load_terms

__all__ = ["counterfactual_section", "data_pairs", "template_pairs", "Pair"]

N_WORST = 5
N_TERMS = 10


@dataclass(frozen=True)
class Pair:
    cluster: str  # the example (row or filled template) the pair belongs to; resampled whole in the bootstrap
    row_id: str
    before: str
    after: str
    swaps: tuple[str, ...]
    inserted_group: str
    inserted_terms: tuple[str, ...]


def data_pairs(family: TermFamily, texts: list[str], row_ids: list[str], max_examples: int,
               rng: np.random.Generator) -> tuple[list[Pair], int]:
    """Pairs (original, swapped) for rows mentioning the family's terms; at most `max_examples` rows (seeded)."""
    swapper = Swapper(family)
    matched = [(i, v) for i, text in enumerate(texts) if (v := swapper.variants(text))]
    n_matched = len(matched)
    if n_matched > max_examples:
        keep = np.sort(rng.choice(n_matched, size=max_examples, replace=False))
        matched = [matched[k] for k in keep]
    pairs = [Pair(row_ids[i], row_ids[i], texts[i], v.text, v.swaps, v.inserted_group, v.inserted_terms)
             for i, variants in matched for v in variants]
    return pairs, n_matched


def template_pairs(family: TermFamily, templates: tuple[str, ...]) -> list[Pair]:
    """Every template filled with aligned terms of every group; ordered pairs of groups (both directions)."""
    swapper = Swapper(family)
    slot_terms = family.slot_terms()
    n_positions = min(len(terms) for terms in slot_terms.values())
    pairs = []
    for t_index, template in enumerate(templates):
        for position in range(n_positions):
            filled = {g: swapper.fill(template, g, position) for g in slot_terms}
            cluster = f"template:{family.template_slot}:{t_index}:{position}"
            for g, before in filled.items():
                for h, after in filled.items():
                    if g != h and before != after:
                        pairs.append(Pair(cluster, f"template:{family.template_slot}:{t_index}", before, after,
                                          (f"{slot_terms[g][position]} -> {slot_terms[h][position]}",), h,
                                          (slot_terms[h][position],)))
    return pairs


def _effects(keys: list[str], shifts: np.ndarray) -> list[TermEffect]:
    acc: dict[str, list[float]] = defaultdict(list)
    for key, shift in zip(keys, shifts):
        acc[key].append(float(shift))
    return [TermEffect(term=k, mean_shift=float(np.mean(v)), n=len(v)) for k, v in acc.items()]


def _family_result(family: TermFamily, pairs: list[Pair], probs: np.ndarray, index: dict[str, int], target: int,
                   labels: list[str], config: CounterfactualConfig, *, n_examples: int, n_swapped: int,
                   note: str | None, templates: bool) -> FamilyResult:
    base = dict(family=family.name, source=f"{family.source} [{family.license}]".strip(" []"), n_examples=n_examples,
                n_swapped=n_swapped)
    if not pairs:
        empty = Estimate(note=note or "no text mentions these terms")
        return FamilyResult(**base, flip_rate=empty, mean_abs_shift=empty, max_abs_shift=0.0, note=empty.note)
    before = probs[[index[p.before] for p in pairs]]
    after = probs[[index[p.after] for p in pairs]]
    shift = after[:, target] - before[:, target]
    flips = (before.argmax(1) != after.argmax(1)).astype(float)
    clusters = np.array([p.cluster for p in pairs])
    boot = dict(clusters=clusters, n_boot=config.n_boot, seed=config.seed)
    term_keys, term_shifts = [], []
    for p, s in zip(pairs, shift):
        for term in dict.fromkeys(p.inserted_terms):
            term_keys.append(term)
            term_shifts.append(s)
    terms = sorted(_effects(term_keys, np.array(term_shifts)), key=lambda e: -abs(e.mean_shift))[:N_TERMS]
    groups = [e for e in _effects([p.inserted_group for p in pairs], shift) if e.term != "mixed"]
    order, seen, worst = np.argsort(-np.abs(shift), kind="stable"), set(), []
    for k in order:
        p = pairs[k]
        key = frozenset((p.before, p.after)) if templates else (p.before, p.after)
        if key in seen:
            continue
        seen.add(key)
        worst.append(SwapExample(row_id=p.row_id, original=p.before, swapped=p.after, swaps=list(p.swaps),
                                 prob_before=float(before[k, target]), prob_after=float(after[k, target]),
                                 pred_before=labels[int(before[k].argmax())], pred_after=labels[int(after[k].argmax())]))
        if len(worst) == N_WORST:
            break
    return FamilyResult(**base, flip_rate=bootstrap_mean(flips, **boot), mean_abs_shift=bootstrap_mean(np.abs(shift), **boot),
                        max_abs_shift=float(np.abs(shift).max()), n_pairs=len(pairs),
                        direction=sorted(terms, key=lambda e: -e.mean_shift),
                        group_effects=sorted(groups, key=lambda e: -e.mean_shift), worst_examples=worst, note=note)


def counterfactual_section(classifier: LoadedClassifier, table: pd.DataFrame, config: CounterfactualConfig,
                           target_label: str, max_length: int, *, terms: TermLists | None = None,
                           batch_size: int = 64) -> CounterfactualSection:
    """Swap identity terms in `table.text` (already scrubbed) and in neutral templates; measure prediction moves."""
    if target_label not in classifier.labels:
        raise BadInputError(f"target label {target_label!r} is not a model label {classifier.labels}",
                            where="counterfactual", fix="set fairness.favorable_label to one of the model's labels")
    for column in ("row_id", "text"):
        if column not in table.columns:
            raise BadInputError(f"evaluation table has no {column!r} column", where="counterfactual")
    terms = terms or load_terms(config.terms_file)
    families = [f for f in terms.select(config.families) if f.swappable]
    texts = table["text"].fillna("").astype(str).tolist()
    row_ids = table["row_id"].astype(str).tolist()
    rng = np.random.default_rng(config.seed)
    plans: list[tuple[TermFamily, list[Pair], dict, bool]] = []
    for family in families:
        pairs, n_matched = data_pairs(family, texts, row_ids, config.max_examples, rng)
        n_used = len({p.cluster for p in pairs})
        note = f"sampled {n_used} of {n_matched} matching rows" if n_matched > n_used else None
        plans.append((family, pairs, dict(n_examples=len(texts), n_swapped=n_used, note=note), False))
    if config.templates:
        for family in families:
            slot_templates = terms.templates.get(family.template_slot or "", ())
            if slot_templates:
                pairs = template_pairs(family, slot_templates)
                n_filled = len({t for p in pairs for t in (p.before, p.after)})
                plans.append((family, pairs, dict(n_examples=n_filled, n_swapped=len({p.cluster for p in pairs}),
                                                  note=None), True))
    unique = list(dict.fromkeys(t for _, pairs, _, _ in plans for p in pairs for t in (p.before, p.after)))
    info(f"counterfactual: {len(families)} families, {len(unique)} texts to score")
    probs = predict_proba(classifier, unique, batch_size=batch_size, max_length=max_length, desc="counterfactual")
    index = {t: i for i, t in enumerate(unique)}
    target = classifier.label_to_index[target_label]
    data_results, template_results = [], []
    for family, pairs, counts, is_template in plans:
        result = _family_result(family, pairs, probs, index, target, classifier.labels, config, templates=is_template,
                                **counts)
        (template_results if is_template else data_results).append(result)
    rates = [r.flip_rate.value for r in data_results + template_results if r.flip_rate.value is not None]
    return CounterfactualSection(target=target_label, families=data_results, templates=template_results,
                                 max_flip_rate=max(rates) if rates else None)
