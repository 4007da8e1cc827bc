"""Attribution section: stratified sample, batched LIG, sensitive-token reliance overall and per group, top words."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from audit.core.config import AttributionConfig, EngineConfig
from audit.core.console import info, warn
from audit.core.engine import ModelMap
from audit.core.errors import BadInputError
from audit.core.model_io import LoadedClassifier
from audit.probes.counterfactual import Swapper, bootstrap_mean
from audit.probes.counterfactual.terms import TermLists, load_terms
from audit.record import AttributedExample, AttributionSection, GroupReliance

from ._lig import WordAttribution, attribute_texts, length_order, resolve_precision

__all__ = ["attribution_section", "attribute_on_engine", "stratified_sample", "sensitive_mask", "reliance_share"]

N_TOP_WORDS = 10
MIN_WORD_COUNT = 2  # a word must occur in >= 2 sampled examples of a class to be ranked (falls back to 1)
N_EXAMPLES = 5
SHARD_BATCHES = 4  # on Ray, each actor gets this many attribution batches at a time (one text costs n_steps passes)


def stratified_sample(strata: pd.Series, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of a sample balanced over strata (equal shares, capped by stratum size) and their weights
    (stratum size / stratum sample size), so weighted means estimate the whole table."""
    rng = np.random.default_rng(seed)
    codes, uniques = pd.factorize(strata, sort=True)
    members = [rng.permutation(np.flatnonzero(codes == k)) for k in range(len(uniques))]
    quota = np.zeros(len(members), dtype=int)
    capacity = np.array([len(m) for m in members])
    remaining = min(size, int(capacity.sum()))
    while remaining > 0:
        open_ = np.flatnonzero(quota < capacity)
        share = max(1, remaining // len(open_))
        for k in open_:
            take = min(share, capacity[k] - quota[k], remaining)
            quota[k] += take
            remaining -= take
            if remaining == 0:
                break
    chosen = np.concatenate([m[:q] for m, q in zip(members, quota)]) if len(members) else np.array([], dtype=int)
    weights = np.concatenate([np.full(q, capacity[k] / q) for k, q in enumerate(quota) if q > 0]) if len(chosen) else np.array([])
    order = np.argsort(chosen)
    return chosen[order], weights[order]


def sensitive_mask(text: str, spans: list[tuple[int, int]], swappers: list[Swapper]) -> np.ndarray:
    """True for words overlapping an identity term of any family (phrases and hyphenated terms included)."""
    hits = [(h.start, h.end) for s in swappers for h in s.find(text)]
    return np.array([any(s < he and hs < e for hs, he in hits) for s, e in spans], dtype=bool)


def convergence_note(large: int, total: int, threshold: float, unit: str) -> str | None:
    """The record's (and console's) warning when `large` of `total` attributions stay above the convergence
    threshold after refinement."""
    if not large:
        return None
    note = (f"{large} of {total} {unit} have a relative convergence delta above {threshold:.0%} "
            f"even after refinement: their attributions are approximate (raise attribution.n_steps)")
    warn(note)
    return note


def reliance_share(scores: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of the example's absolute attribution mass on sensitive words."""
    total = np.abs(scores).sum()
    return float(np.abs(scores[mask]).sum() / total) if total > 0 else 0.0


def _example(row_id: str, label: str, attr: WordAttribution, share: float) -> AttributedExample:
    return AttributedExample(row_id=row_id, predicted=label, words=attr.words,
                             scores=[round(float(s), 5) for s in attr.scores], reliance_share=share,
                             delta=attr.relative_delta)


def _top_words(attrs: list[WordAttribution], labels: list[str]) -> dict[str, list[tuple[str, float]]]:
    by_class: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for attr in attrs:
        per_word: dict[str, float] = defaultdict(float)
        for word, score in zip(attr.words, attr.scores):
            if any(ch.isalnum() for ch in word):
                per_word[word.lower()] += float(score)
        for word, score in per_word.items():
            by_class[labels[attr.target]][word].append(score)
    out = {}
    for label, words in by_class.items():
        min_count = MIN_WORD_COUNT if any(len(v) >= MIN_WORD_COUNT for v in words.values()) else 1
        ranked = sorted(((w, float(np.mean(v))) for w, v in words.items() if len(v) >= min_count), key=lambda x: -x[1])
        out[label] = [(w, round(s, 5)) for w, s in ranked[:N_TOP_WORDS]]
    return out


def attribute_on_engine(classifier: LoadedClassifier, texts: list[str], targets: list[int],
                        engine: EngineConfig | None, **options) -> list[WordAttribution]:
    """`attribute_texts`, locally or on Ray actors. Ray shards are runs of whole batches of the local length order, so
    every batch holds the texts it holds locally."""
    if engine is None or engine.kind != "ray" or not texts:
        return attribute_texts(classifier, texts, targets, **options)
    order = length_order(classifier, texts, options["max_length"])
    step = options["batch_size"] * SHARD_BATCHES
    shards = [order[i:i + step] for i in range(0, len(order), step)]
    parts = ModelMap(classifier.path, attribute_texts,
                     [([texts[i] for i in rows], [targets[i] for i in rows]) for rows in shards], engine, **options)
    results: list[WordAttribution | None] = [None] * len(texts)
    for rows, part in zip(shards, parts):
        for i, result in zip(rows, part):
            results[i] = result
    return results  # type: ignore[return-value]


def attribution_section(classifier: LoadedClassifier, table: pd.DataFrame, config: AttributionConfig,
                        sensitive_features: list[str], target_label: str, *, terms: TermLists | None = None,
                        terms_file=None, model_max_length: int = 128,
                        engine: EngineConfig | None = None) -> AttributionSection:
    """Attribute a stratified sample of `table` (columns row_id, text, prediction + sensitive features) to words.

    Texts are cut at `config.max_length` tokens, by default `model_max_length` (the window the model predicts on), so
    the attribution explains the input the prediction saw.

    `target_label` names the class of interest (kept for the record); each example is attributed towards its own
    predicted class, so top words are per predicted class. Sensitive words: all families of the term lists.
    With `engine.kind: ray` the sample is attributed on Ray actors (`attribute_on_engine`).
    """
    missing = [c for c in ("row_id", "text", "prediction", *sensitive_features) if c not in table.columns]
    if missing:
        raise BadInputError(f"evaluation table lacks column(s) {missing}", where="attribution")
    if target_label not in classifier.labels:
        raise BadInputError(f"target label {target_label!r} is not a model label {classifier.labels}",
                            where="attribution")
    max_length = config.max_length or model_max_length
    terms = terms or load_terms(terms_file)
    swappers = [Swapper(f) for f in terms.families]
    strata = table[["prediction", *sensitive_features]].astype(str).agg("|".join, axis=1)
    positions, weights = stratified_sample(strata, config.sample_size, config.seed)
    sample = table.iloc[positions].reset_index(drop=True)
    index = classifier.label_to_index
    predicted = sample["prediction"].astype(str)
    unknown = sorted(set(predicted) - set(index))
    if unknown:
        raise BadInputError(f"predictions {unknown[:3]} are not model labels {classifier.labels}", where="attribution")
    texts = sample["text"].fillna("").astype(str).tolist()
    info(f"attribution: {len(texts)} of {len(table)} rows (stratified by prediction and {len(sensitive_features)} "
         f"sensitive feature(s)), n_steps={config.n_steps}")
    attrs = attribute_on_engine(classifier, texts, [index[p] for p in predicted], engine, n_steps=config.n_steps,
                                internal_batch_size=config.internal_batch_size, batch_size=config.batch_size,
                                max_length=max_length, refine_above=config.delta_warning,
                                refine_steps=config.refine_steps, precision=config.precision)
    shares = np.array([reliance_share(a.scores, sensitive_mask(t, a.spans, swappers)) for t, a in zip(texts, attrs)])
    rel = np.array([a.relative_delta for a in attrs])
    large = int((rel > config.delta_warning).sum())
    note = convergence_note(large, len(attrs), config.delta_warning, "examples")
    group_reliance, by_group = [], {}
    for feature in sensitive_features:
        by_group[feature] = {}
        for group, rows in sample.groupby(sample[feature].astype(str)).indices.items():
            estimate = bootstrap_mean(shares[rows], weights=weights[rows], n_boot=200, seed=config.seed)
            group_reliance.append(GroupReliance(feature=feature, group=str(group), n=len(rows), share=estimate))
            by_group[feature][str(group)] = float(estimate.value) if estimate.value is not None else 0.0
    row_ids = sample["row_id"].astype(str).tolist()
    labels = classifier.labels
    top = [int(i) for i in np.argsort(-shares, kind="stable")[:N_EXAMPLES] if shares[i] > 0]
    highlighted = []
    for label in sorted(set(predicted)):
        members = [i for i in np.argsort(rel, kind="stable") if predicted[i] == label][:2]
        highlighted += [_example(row_ids[i], label, attrs[i], float(shares[i])) for i in members]
    truncated = sum(a.truncated for a in attrs)
    if truncated:
        note = "; ".join(filter(None, [note, f"{truncated} texts truncated to {max_length} tokens"]))
    return AttributionSection(
        n_steps=config.n_steps, precision=resolve_precision(config.precision, classifier.device), n_examples=len(attrs),
        mean_relative_delta=float(rel.mean()) if len(rel) else 0.0,
        relative_delta_max=float(rel.max()) if len(rel) else None, large_delta_count=large,
        top_words=_top_words(attrs, labels),
        reliance_share=bootstrap_mean(shares, weights=weights, n_boot=200, seed=config.seed),
        reliance_by_group=by_group, group_reliance=group_reliance,
        sensitive_families=[f.name for f in terms.families],
        top_reliance_examples=[_example(row_ids[i], predicted[i], attrs[i], float(shares[i])) for i in top],
        highlighted_examples=highlighted, note=note)
