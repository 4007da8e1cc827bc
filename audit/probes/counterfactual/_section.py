"""Counterfactual identity swaps on evaluation texts and CheckList-style template probes (one batched prediction)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from audit.core.config import CounterfactualConfig
from audit.core.console import info
from audit.core.errors import BadInputError
from audit.core.model_io import LoadedClassifier, predict_proba
from audit.record import CounterfactualSection, Coverage, Estimate, FamilyResult

from ._effects import Scored, axis_results, term_effects, worst_examples
from ._pos import tag_spans
from ._stats import bootstrap_mean
from ._swap import Swapper, pool_family
from ._window import Window
from .terms import TermFamily, TermLists, load_terms

__all__ = ["counterfactual_section", "data_pairs", "template_pairs", "Pair", "PairSet", "swapper_for"]


@dataclass(frozen=True)
class Pair:
    cluster: str  # the example (row or filled template) the pair belongs to; resampled whole in the bootstrap
    row_id: str
    before: str
    after: str
    swaps: tuple[str, ...]
    inserted_group: str
    inserted_terms: tuple[str, ...]
    before_group: str = "mixed"
    before_terms: tuple[str, ...] = ()
    before_spans: tuple[tuple[int, int], ...] = ()
    after_spans: tuple[tuple[int, int], ...] = ()
    from_axis: str = ""
    to_axis: str = ""


class PairSet(NamedTuple):
    pairs: list[Pair]
    n_matched: int  # rows with a term anywhere
    n_moved: int = 0  # rows whose terms all lay beyond the window, window moved
    n_skipped: int = 0  # rows whose terms all lay beyond the window, not swapped


@dataclass
class _Plan:
    family: TermFamily
    pairs: list[Pair]
    counts: dict = field(default_factory=dict)
    templates: bool = False


def swapper_for(family: TermFamily, terms: TermLists | None, config: CounterfactualConfig | None = None) -> Swapper:
    """A Swapper with the term lists' stop phrases and person nouns; hyphenated compounds for identity families."""
    hyphenated = bool(config and config.hyphenated and family.forms)
    if terms is None:
        return Swapper(family, hyphenated=hyphenated)
    return Swapper(family, hyphenated=hyphenated, stop_phrases=terms.stop_phrases, stop_names=terms.stop_names,
                   person_nouns=terms.person_nouns)


def data_pairs(family: TermFamily | Swapper, texts: list[str], row_ids: list[str], max_examples: int,
               rng: np.random.Generator, *, window: Window | None = None, mode: str = "move") -> PairSet:
    """Pairs (original, swapped) for rows mentioning the family's terms; at most `max_examples` rows (seeded). With a
    `window`, only terms inside the model's window are swapped; rows with terms only beyond it are moved or skipped."""
    swapper = family if isinstance(family, Swapper) else Swapper(family)
    fam = swapper.family
    matched = [(i, h) for i, text in enumerate(texts) if (h := swapper.find(text))]
    n_matched = len(matched)
    if n_matched > max_examples:
        keep = np.sort(rng.choice(n_matched, size=max_examples, replace=False))
        matched = [matched[k] for k in keep]
    n_moved = n_skipped = 0
    used: list[tuple[int, str, list]] = []
    limits = window.limits([texts[i] for i, _ in matched]) if window else [None] * len(matched)
    for (i, hits), limit in zip(matched, limits):
        text = texts[i]
        inside = [h for h in hits if limit is None or h.end <= limit]
        if not inside:
            if mode == "skip":
                n_skipped += 1
                continue
            text = window.move(text, hits[0].start)
            inside = swapper.find(text, window.limits([text])[0])
            if not inside:
                n_skipped += 1
                continue
            n_moved += 1
        used.append((i, text, inside))
    tagged = [k for k, (_, _, hits) in enumerate(used) if swapper.needs_tags(hits)]
    tags: dict[int, dict] = {}
    if tagged:
        found = tag_spans([used[k][1] for k in tagged], [{h.start for h in used[k][2]} for k in tagged])
        tags = dict(zip(tagged, found))
    pairs = []
    for k, (i, text, hits) in enumerate(used):
        for v in swapper.variants(text, hits, tags.get(k)):
            pairs.append(Pair(row_ids[i], row_ids[i], text, v.text, v.swaps, v.inserted_group, v.inserted_terms,
                              v.original_group, v.replaced_terms, v.original_spans, v.spans,
                              fam.axis_of(v.original_group) if v.original_group != "mixed" else "mixed",
                              fam.axis_of(v.inserted_group) if v.inserted_group != "mixed" else "mixed"))
    return PairSet(pairs, n_matched, n_moved, n_skipped)


def template_pairs(family: TermFamily | Swapper, templates: tuple[str, ...]) -> list[Pair]:
    """Every template filled with aligned terms of every group; ordered pairs of groups (both directions)."""
    swapper = family if isinstance(family, Swapper) else Swapper(family)
    fam = swapper.family
    slot_terms = fam.slot_terms()
    n_positions = min(len(terms) for terms in slot_terms.values())
    pairs = []
    for t_index, template in enumerate(templates):
        for position in range(n_positions):
            filled = {g: swapper.fill(template, g, position) for g in slot_terms}
            cluster = f"template:{fam.template_slot}:{t_index}:{position}"
            at = template.index("{term}")
            spans = {g: (at + len(text) - len(template) + len("{term}") - len(slot_terms[g][position]),
                         at + len(text) - len(template) + len("{term}")) for g, text in filled.items()}
            for g, before in filled.items():
                for h, after in filled.items():
                    if g != h and before != after:
                        pairs.append(Pair(cluster, f"template:{fam.template_slot}:{t_index}", before, after,
                                          (f"{slot_terms[g][position]} -> {slot_terms[h][position]}",), h,
                                          (slot_terms[h][position],), g, (slot_terms[g][position],),
                                          (spans[g],), (spans[h],), fam.axis_of(g), fam.axis_of(h)))
    return pairs


def _family_result(plan: _Plan, scored: Scored, config: CounterfactualConfig) -> FamilyResult:
    family, pairs = plan.family, plan.pairs
    counts = dict(plan.counts)
    note = counts.pop("note", None)
    base = dict(family=family.name, source=f"{family.source} [{family.license}]".strip(" []"), **counts)
    if not pairs:
        empty = Estimate(note=note or "no text mentions these terms")
        return FamilyResult(**base, flip_rate=empty, mean_abs_shift=empty, max_abs_shift=0.0, note=empty.note)
    before, after, shift, flips = scored.arrays(pairs)
    boot = dict(clusters=np.array([p.cluster for p in pairs]), n_boot=config.n_boot, seed=config.seed)
    terms, groups = term_effects(pairs, scored, config, axes=family.axes)
    return FamilyResult(
        **base, flip_rate=bootstrap_mean(flips, **boot), mean_abs_shift=bootstrap_mean(np.abs(shift), **boot),
        max_abs_shift=float(np.abs(shift).max()), n_pairs=len(pairs), direction=terms, group_effects=groups,
        worst_examples=worst_examples(pairs, scored, config, templates=plan.templates),
        axes=axis_results(pairs, scored, config) if family.axes else [], worst_min_shift=config.worst_min_shift,
        note=note)


def _coverage(texts: list[str], swappers: list[Swapper], pool: Swapper | None) -> list[Coverage]:
    def entry(scope: str, mask: np.ndarray) -> Coverage:
        n = len(texts)
        return Coverage(scope=scope, n_texts=n, n_with_term=int(mask.sum()), share=float(mask.mean()) if n else 0.0)

    out = []
    if pool is not None:
        groups = np.array([{h.group for h in pool.find(t)} for t in texts], dtype=object)
        out.append(entry("identity_pool", np.array([bool(g) for g in groups], dtype=bool)))
        for axis in dict.fromkeys(pool.family.axes.values()):
            out.append(entry(f"axis:{axis}", np.array([any(pool.family.axes[x] == axis for x in g) for g in groups],
                                                      dtype=bool)))
    for swapper in swappers:
        out.append(entry(swapper.family.name, np.array([bool(swapper.find(t)) for t in texts], dtype=bool)))
    return out


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
    selected = [f for f in terms.select(config.families) if f.swappable]
    pooled = [f for f in selected if f.pool]
    families = [f for f in selected if not (f.pool and config.descriptor_mode == "pool")]
    pool = pool_family(pooled) if pooled and config.descriptor_mode != "family" else None
    swappers = [swapper_for(f, terms, config) for f in families]
    pool_swapper = swapper_for(pool, terms, config) if pool else None
    runs = ([pool_swapper] if pool_swapper else []) + swappers
    texts = table["text"].fillna("").astype(str).tolist()
    row_ids = table["row_id"].astype(str).tolist()
    rng = np.random.default_rng(config.seed)
    window = Window(classifier.tokenizer, max_length)
    plans: list[_Plan] = []
    for swapper in runs:
        found = data_pairs(swapper, texts, row_ids, config.max_examples, rng, window=window, mode=config.window)
        n_used = len({p.cluster for p in found.pairs})
        n_sampled = min(found.n_matched, config.max_examples)
        notes = [f"sampled {n_sampled} of {found.n_matched} matching rows" if found.n_matched > n_sampled else None,
                 f"{found.n_moved} rows had their terms only beyond the {max_length}-token window: window moved"
                 if found.n_moved else None,
                 f"{found.n_skipped} rows had their terms only beyond the {max_length}-token window: skipped"
                 if found.n_skipped else None]
        plans.append(_Plan(swapper.family, found.pairs, dict(
            n_examples=len(texts), n_swapped=n_used, n_moved=found.n_moved, n_skipped=found.n_skipped,
            note="; ".join(n for n in notes if n) or None)))
    if config.templates:
        for swapper in runs:
            slot_templates = terms.templates.get(swapper.family.template_slot or "", ())
            if slot_templates:
                pairs = template_pairs(swapper, slot_templates)
                n_filled = len({t for p in pairs for t in (p.before, p.after)})
                plans.append(_Plan(swapper.family, pairs, dict(n_examples=n_filled,
                                                               n_swapped=len({p.cluster for p in pairs})), True))
    unique = list(dict.fromkeys(t for plan in plans for p in plan.pairs for t in (p.before, p.after)))
    info(f"counterfactual: {len(runs)} families ({config.descriptor_mode} mode), {len(unique)} texts to score")
    probs = predict_proba(classifier, unique, batch_size=batch_size, max_length=max_length, desc="counterfactual")
    scored = Scored(probs, {t: i for i, t in enumerate(unique)}, classifier.label_to_index[target_label],
                    list(classifier.labels))
    data_results, template_results = [], []
    for plan in plans:
        (template_results if plan.templates else data_results).append(_family_result(plan, scored, config))
    rates = [r.flip_rate.value for r in data_results + template_results if r.flip_rate.value is not None]
    return CounterfactualSection(target=target_label, families=data_results, templates=template_results,
                                 max_flip_rate=max(rates) if rates else None, mode=config.descriptor_mode,
                                 max_length=max_length, coverage=_coverage(texts, swappers, pool_swapper))
