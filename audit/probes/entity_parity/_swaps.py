"""One pass of name swaps: sample documents with a person span, swap each group's names into it, predict word tags.

The parity (`_section.py`) and span-flip (`_flips.py`) statistics both read the same `NameSwaps`, so the swapped
documents are built and predicted once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.core.config import TokenAuditConfig
from audit.core.console import info
from audit.core.errors import BadInputError
from audit.core.spans import Span, SpanDoc, words_of
from audit.core.token_io import LoadedTokenClassifier, encode_words, predict_word_tags

__all__ = ["Family", "NameSwaps", "name_swaps", "swap_name"]


@dataclass(frozen=True)
class Family:
    name: str
    source: str
    groups: dict[str, tuple[str, ...]]


@dataclass
class NameSwaps:
    """Every predicted variant: row k is document `keys[k][0]` with family / group `keys[k][1:]` ('' = original).

    `windows[k]` is the word range [first, last) of the name in variant k, `tags[k]` its predicted word tags and
    `truncated[k]` whether some of its words were past `model.max_length` (predicted 'O'). `weights` are the
    bootstrap's document counts (`n_boot` x `n_docs`, multinomial), shared by every statistic, so CIs are paired."""

    entity: str
    n_docs: int
    families: list[Family]
    names_per_group: int
    keys: list[tuple[int, str, str]]
    windows: list[tuple[int, int]]
    tags: list[list[str]]
    truncated: list[bool]
    weights: np.ndarray

    @property
    def sources(self) -> str:
        return "; ".join(sorted({f.source for f in self.families}))


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


def _families(terms: Any, only: list[str]) -> list[Family]:
    """Name families with at least two groups from the term lists (audit/data/terms/names.yaml and user files)."""
    out = [Family(f.name, f.source, dict(f.groups)) for f in terms.families if f.name.startswith("names") and f.swappable]
    if not out:
        raise BadInputError("no name families in the term lists", where="counterfactual.terms_file",
                            fix="keep the shipped audit/data/terms/names.yaml or add a names_* family")
    if only:
        out = [Family(f.name, f.source, {g: n for g, n in f.groups.items() if g in only}) for f in out]
        out = [f for f in out if len(f.groups) >= 2]
        if not out:
            raise BadInputError(f"ner.name_groups {only} leave no family with two groups", where="ner.name_groups")
    return out


def name_swaps(classifier: LoadedTokenClassifier, docs: list[SpanDoc], config: TokenAuditConfig, terms: Any,
               max_length: int, batch_size: int = 64) -> NameSwaps:
    """Sample up to `config.max_examples` documents with a person span (seeded); in each, the first person span gets
    every one of the first `names_per_group` names of every group; the originals and all variants are predicted."""
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
    families = _families(terms, config.name_groups)
    variants: list[SpanDoc] = []
    windows: list[tuple[int, int]] = []
    keys: list[tuple[int, str, str]] = []
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
    info(f"name swaps: {len(candidates)} documents x {len(variants) // len(candidates) - 1} names")
    encoded = encode_words(classifier.tokenizer, [v.word_texts() for v in variants], max_length)
    tags = predict_word_tags(classifier.model, encoded, classifier.labels, classifier.tokenizer.pad_token_id,
                             batch_size=batch_size, device=classifier.device)
    truncated = [any(p < 0 for p in firsts) for firsts in encoded.first_token]
    n_docs = len(candidates)
    weights = (rng.multinomial(n_docs, np.full(n_docs, 1 / n_docs), size=config.n_boot) if config.n_boot
               else np.zeros((0, n_docs), dtype=np.int64))
    return NameSwaps(entity=entity, n_docs=n_docs, families=families, names_per_group=config.names_per_group,
                     keys=keys, windows=windows, tags=tags, truncated=truncated, weights=weights)
