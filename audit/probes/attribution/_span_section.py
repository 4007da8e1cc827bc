"""Attribution per predicted span of a token classifier: a seeded sample balanced over entity types, the share of
each span's attribution on its own words, on person names (other types) and the top context words per type.

No text is recorded but context words, and never a word that could be a PII value: words of any gold or predicted
entity of the document (names included), words with a digit, and words seen in fewer than `MIN_WORD_DOCS` documents
of the sample are left out.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from audit.core.config import AttributionConfig
from audit.core.console import info
from audit.core.spans import SpanDoc, tags_to_spans, word_tags
from audit.core.token_io import LoadedTokenClassifier
from audit.probes.counterfactual import bootstrap_mean
from audit.record import Estimate, SpanAttributionSection, SpanTypeAttribution

from ._lig import resolve_precision
from ._section import N_TOP_WORDS, convergence_note, reliance_share, stratified_sample
from ._spans import SpanAttribution, SpanTarget, attribute_spans

__all__ = ["MIN_WORD_DOCS", "span_attribution_section"]

MIN_WORD_DOCS = 2  # a context word must occur in spans of >= 2 documents to be ranked (no fallback: PII)


def _attribute(classifier: LoadedTokenClassifier, targets: list[SpanTarget], config: AttributionConfig,
               max_length: int) -> list[SpanAttribution]:
    """`attribute_spans`, then spans above `delta_warning` again with `refine_steps` in fp32 (the better kept)."""
    options = {"internal_batch_size": config.internal_batch_size, "batch_size": config.batch_size, "max_length": max_length}
    results = attribute_spans(classifier, targets, n_steps=config.n_steps,
                              precision=resolve_precision(config.precision, classifier.device), **options)
    redo = [i for i, r in enumerate(results) if r.relative_delta > config.delta_warning]
    if redo and config.refine_steps > config.n_steps:
        again = attribute_spans(classifier, [targets[i] for i in redo], n_steps=config.refine_steps, precision="fp32",
                                desc="span attribution (refine)", **options)
        for i, better in zip(redo, again):
            if better.relative_delta < results[i].relative_delta:
                results[i] = better
    return results


def _top_context(entries: list[tuple[str, float, int]]) -> list[tuple[str, float]]:
    """(word, mean signed score) of words seen in >= MIN_WORD_DOCS documents, highest first."""
    scores: dict[str, list[float]] = defaultdict(list)
    docs: dict[str, set[int]] = defaultdict(set)
    for word, score, doc in entries:
        scores[word].append(score)
        docs[word].add(doc)
    ranked = sorted(((w, float(np.mean(v))) for w, v in scores.items() if len(docs[w]) >= MIN_WORD_DOCS),
                    key=lambda item: (-item[1], item[0]))
    return [(w, round(s, 5)) for w, s in ranked[:N_TOP_WORDS]]


def span_attribution_section(classifier: LoadedTokenClassifier, docs: list[SpanDoc], predicted: list[list[str]],
                             config: AttributionConfig, person_label: str, *, model_max_length: int, n_boot: int,
                             level: float) -> SpanAttributionSection:
    """Attribute a sample of the predicted spans (`predicted`: word tags per document) to the document's words."""
    spans = [(d, s.start, s.end, s.label) for d, tags in enumerate(predicted)
             for s in tags_to_spans(tags, [(i, i + 1) for i in range(len(tags))])]
    max_length = config.max_length or model_max_length
    precision = resolve_precision(config.precision, classifier.device)
    if not spans:
        return SpanAttributionSection(n_steps=config.n_steps, precision=precision, person_label=person_label,
                                      spans_predicted=0, n_spans=0, n_docs=0, note="no predicted spans to attribute")
    positions, weights = stratified_sample(pd.Series([s[3] for s in spans]), config.sample_size, config.seed)
    sample = [spans[i] for i in positions]
    index = {tag: i for i, tag in enumerate(classifier.labels)}
    targets = [SpanTarget(docs[d].word_texts(), a, b, tuple(index[t] for t in predicted[d][a:b])) for d, a, b, _ in sample]
    info(f"span attribution: {len(sample)} of {len(spans)} predicted spans, n_steps={config.n_steps}")
    attrs = _attribute(classifier, targets, config, max_length)
    inside, names, entries = np.zeros(len(sample)), np.full(len(sample), np.nan), defaultdict(list)
    for k, ((d, a, b, label), attr) in enumerate(zip(sample, attrs)):
        gold = word_tags(docs[d])
        entity = np.array([g != "O" or p != "O" for g, p in zip(gold, predicted[d])])
        person = np.array([g.partition("-")[2] == person_label or p.partition("-")[2] == person_label
                           for g, p in zip(gold, predicted[d])])
        own = np.zeros(len(gold), dtype=bool)
        own[a:b] = True
        inside[k] = reliance_share(attr.scores, own)
        if label != person_label:
            names[k] = reliance_share(attr.scores, person & ~own)
        per_word: dict[str, float] = defaultdict(float)
        for w, (word, score) in enumerate(zip(targets[k].words, attr.scores)):
            if not entity[w] and any(c.isalpha() for c in word) and not any(c.isdigit() for c in word):
                per_word[word.lower()] += float(score)
        entries[label].extend((word, score, d) for word, score in per_word.items())
    doc_ids = np.array([s[0] for s in sample])
    labels = np.array([s[3] for s in sample])
    per_type = []
    for label in sorted(set(labels)):
        rows = np.flatnonzero(labels == label)
        per_type.append(SpanTypeAttribution(
            label=label, n_spans=len(rows),
            inside_share=bootstrap_mean(inside[rows], clusters=doc_ids[rows], n_boot=n_boot, seed=config.seed, level=level),
            name_share=None if label == person_label else bootstrap_mean(names[rows], clusters=doc_ids[rows],
                                                                         n_boot=n_boot, seed=config.seed, level=level),
            top_context_words=_top_context(entries[label])))
    others = labels != person_label
    rel = np.array([a.relative_delta for a in attrs])
    large = int((rel > config.delta_warning).sum())
    note = convergence_note(large, len(attrs), config.delta_warning, "spans")
    return SpanAttributionSection(
        n_steps=config.n_steps, precision=precision, person_label=person_label, spans_predicted=len(spans),
        n_spans=len(sample), n_docs=len(set(doc_ids.tolist())), per_type=per_type,
        inside_share=bootstrap_mean(inside, clusters=doc_ids, weights=weights, n_boot=n_boot, seed=config.seed,
                                    level=level),
        name_share=(bootstrap_mean(names[others], clusters=doc_ids[others], weights=weights[others], n_boot=n_boot,
                                   seed=config.seed, level=level) if others.any()
                    else Estimate(note=f"no sampled span of a type other than {person_label}")),
        mean_relative_delta=float(rel.mean()), large_delta_count=large, note=note)
