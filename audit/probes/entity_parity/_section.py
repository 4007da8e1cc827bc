"""Name swaps inside person spans, word-tag prediction and per-group recall with paired document bootstrap."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.core.config import TokenAuditConfig
from audit.core.console import info
from audit.core.errors import BadInputError
from audit.core.spans import Span, SpanDoc, words_of
from audit.core.token_io import LoadedTokenClassifier, encode_words, predict_word_tags
from audit.record import EntityParitySection, Estimate, NameFamilyParity, NameGroupRecall

__all__ = ["entity_parity_section", "swap_name"]


@dataclass(frozen=True)
class _Family:
    name: str
    source: str
    groups: dict[str, tuple[str, ...]]


def swap_name(doc: SpanDoc, span: Span, name: str) -> tuple[SpanDoc, tuple[int, int]]:
    """`doc` with the text of `span` replaced by `name`; returns it and the word range [first, last) of the name."""
    delta = len(name) - (span.end - span.start)
    text = doc.text[: span.start] + name + doc.text[span.end :]
    before = [w for w in doc.words if w[1] <= span.start]
    inside = [(span.start + a, span.start + b) for a, b in words_of(name)]
    after = [(a + delta, b + delta) for a, b in doc.words if a >= span.end]
    spans = [s if s.end <= span.start else Span(span.start, span.start + len(name), s.label) if s == span
             else Span(s.start + delta, s.end + delta, s.label) for s in doc.spans]
    swapped = SpanDoc(row_id=doc.row_id, text=text, spans=spans, words=before + inside + after)
    return swapped, (len(before), len(before) + len(inside))


def _found(tags: list[str], first: int, last: int, entity: str) -> tuple[bool, bool]:
    """(partial, strict): some word of the name is tagged `entity`; the name is exactly one B- I-* entity."""
    window = tags[first:last]
    partial = any(t.partition("-")[2] == entity for t in window)
    strict = (bool(window) and window[0] == f"B-{entity}" and all(t == f"I-{entity}" for t in window[1:])
              and (last >= len(tags) or tags[last] != f"I-{entity}"))
    return partial, strict


def _estimate(value: float, samples: np.ndarray, level: float, note: str = "") -> Estimate:
    if np.isnan(value):
        return Estimate(value=None, note=note or "undefined")
    alpha = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = (np.nanquantile(samples, [alpha, 1 - alpha]) if samples.size and not np.isnan(samples).all()
                     else (np.nan, np.nan))
    return Estimate(value=float(value), ci_low=None if np.isnan(low) else float(low),
                    ci_high=None if np.isnan(high) else float(high))


def _families(terms: Any) -> list[_Family]:
    """Name families with at least two groups from the term lists (audit/data/terms/names.yaml and user files)."""
    out = []
    for family in terms.families:
        if family.name.startswith("names") and family.swappable:
            out.append(_Family(family.name, family.source, dict(family.groups)))
    if not out:
        raise BadInputError("no name families in the term lists", where="counterfactual.terms_file",
                            fix="keep the shipped audit/data/terms/names.yaml or add a names_* family")
    return out


def entity_parity_section(classifier: LoadedTokenClassifier, docs: list[SpanDoc], config: TokenAuditConfig,
                          terms: Any, max_length: int, batch_size: int = 64) -> EntityParitySection:
    """Swap names of each group into one person span per document; recall per group, ratio and gap per family."""
    entity = config.person_label
    if f"B-{entity}" not in classifier.labels:
        raise BadInputError(f"the model has no {entity!r} entity (its tags: {classifier.labels[:12]})",
                            where="ner.person_label", fix="set ner.person_label to the model's person type")
    candidates = [(d, next(s for s in d.spans if s.label == entity)) for d in docs if any(s.label == entity for s in d.spans)]
    if not candidates:
        raise BadInputError(f"no held-out document has a {entity!r} span", where="ner.person_label",
                            fix="audit documents with person spans, or set ner.person_label")
    rng = np.random.default_rng(config.seed)
    if len(candidates) > config.max_examples:
        keep = np.sort(rng.choice(len(candidates), config.max_examples, replace=False))
        candidates = [candidates[i] for i in keep]
    families = _families(terms)
    if config.name_groups:
        families = [_Family(f.name, f.source, {g: n for g, n in f.groups.items() if g in config.name_groups})
                    for f in families]
        families = [f for f in families if len(f.groups) >= 2]
        if not families:
            raise BadInputError(f"ner.name_groups {config.name_groups} leave no family with two groups",
                                where="ner.name_groups")
    variants: list[SpanDoc] = []
    windows: list[tuple[int, int]] = []
    keys: list[tuple[int, str, str]] = []  # (doc index, family, group); family '' = the original names
    for i, (doc, span) in enumerate(candidates):
        variants.append(doc)
        first = next(k for k, w in enumerate(doc.words) if w[1] > span.start)
        last = next((k for k, w in enumerate(doc.words) if w[0] >= span.end), len(doc.words))
        windows.append((first, last))
        keys.append((i, "", ""))
        for family in families:
            for group, names in family.groups.items():
                for name in names[: config.names_per_group]:
                    swapped, window = swap_name(doc, span, name)
                    variants.append(swapped)
                    windows.append(window)
                    keys.append((i, family.name, group))
    info(f"entity parity: {len(candidates)} documents x {len(variants) // len(candidates) - 1} name swaps")
    encoded = encode_words(classifier.tokenizer, [v.word_texts() for v in variants], max_length)
    tags = predict_word_tags(classifier.model, encoded, classifier.labels, classifier.tokenizer.pad_token_id,
                             batch_size=batch_size, device=classifier.device)
    n_docs = len(candidates)
    cells = sorted({(f, g) for _, f, g in keys})
    index = {c: j for j, c in enumerate(cells)}
    counts = np.zeros((n_docs, len(cells), 3), dtype=np.int64)  # found partial, found strict, swaps
    for (doc_i, fam, grp), row_tags, (first, last) in zip(keys, tags, windows):
        partial, strict = _found(row_tags, first, last, entity)
        counts[doc_i, index[(fam, grp)]] += (int(partial), int(strict), 1)
    weights = rng.multinomial(n_docs, np.full(n_docs, 1 / n_docs), size=config.n_boot) if config.n_boot else None
    boot = np.einsum("bd,dck->bck", weights, counts) if weights is not None else np.zeros((0, len(cells), 3))
    total = counts.sum(axis=0)

    def rate(sums: np.ndarray, column: int) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[..., column] / sums[..., 2]

    point_p, boot_p = rate(total, 0), rate(boot, 0)
    point_s, boot_s = rate(total, 1), rate(boot, 1)
    level = config.ci_level
    out_families = []
    for family in families:
        cols = [index[(family.name, g)] for g in family.groups]
        groups = [NameGroupRecall(group=g, names=min(len(n), config.names_per_group), spans=int(total[c, 2]),
                                  recall=_estimate(point_p[c], boot_p[:, c], level),
                                  exact_recall=_estimate(point_s[c], boot_s[:, c], level))
                  for (g, n), c in zip(family.groups.items(), cols)]
        values = point_p[cols]
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            ratio = values.min() / values.max() if values.max() > 0 else np.nan
            boot_ratio = boot_p[:, cols].min(axis=1) / boot_p[:, cols].max(axis=1)
            boot_ratio[~np.isfinite(boot_ratio)] = np.nan
        out_families.append(NameFamilyParity(
            family=family.name, groups=groups, lowest_group=list(family.groups)[int(values.argmin())],
            highest_group=list(family.groups)[int(values.argmax())],
            recall_ratio=_estimate(ratio, boot_ratio, level, "no swapped name was found in any group"),
            recall_gap=_estimate(values.max() - values.min(), boot_p[:, cols].max(axis=1) - boot_p[:, cols].min(axis=1),
                                 level)))
    original = index[("", "")]
    sources = sorted({f.source for f in families})
    return EntityParitySection(entity=entity, n_docs=n_docs, names_source="; ".join(sources), families=out_families,
                               original_recall=_estimate(point_p[original], boot_p[:, original], level),
                               n_boot=config.n_boot, ci_level=level, seed=config.seed)
