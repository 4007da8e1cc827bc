"""Entity-level precision, recall and F1 of IOB2 word tags, strict and partial, with document-bootstrap CIs.

strict: seqeval's strict IOB2 mode (`seqeval.scheme.Entities`): an entity is a well-formed B-/I- run; a prediction
counts if a gold entity has the same type, start and end. Precision = matched / predicted, recall = matched / gold.
partial: entities are read leniently (seqeval's default `get_entities`: an I- after O starts one); a prediction counts
if it shares at least one word with a gold entity of the same type, a gold entity is found if some prediction of its
type shares a word with it. F1 = 2PR / (P + R). Micro = counts summed over types. CIs: percentile bootstrap over
documents (`n_boot` resamples with replacement, seeded).
"""
from __future__ import annotations

import warnings

import numpy as np

from . import Estimate
from ._entities import EntityMetrics, EntityScore, EntitySection

__all__ = ["entity_counts", "entity_metrics", "score_from_counts", "entity_section"]

_MATCHED_PRED, _MATCHED_GOLD, _PRED, _GOLD = range(4)


def _strict(tags: list[list[str]]) -> list[set[tuple[str, int, int]]]:
    from seqeval.scheme import IOB2, Entities

    return [{(e.tag, e.start, e.end - 1) for e in row} for row in Entities(tags, IOB2).entities]


def _lenient(tags: list[list[str]]) -> list[set[tuple[str, int, int]]]:
    from seqeval.metrics.sequence_labeling import get_entities

    return [set(get_entities(row)) for row in tags]


def entity_counts(gold: list[list[str]], pred: list[list[str]], types: list[str], scheme: str) -> np.ndarray:
    """(n_docs, n_types, 4) counts: matched predictions, matched gold, predictions, gold entities."""
    if len(gold) != len(pred) or any(len(g) != len(p) for g, p in zip(gold, pred)):
        raise ValueError("gold and predicted tags must have the same documents and lengths")
    index = {t: i for i, t in enumerate(types)}
    out = np.zeros((len(gold), len(types), 4), dtype=np.int64)
    extract = _strict if scheme == "strict" else _lenient
    for d, (g_set, p_set) in enumerate(zip(extract(gold), extract(pred))):
        for kind, *_ in g_set:
            out[d, index[kind], _GOLD] += 1
        for kind, *_ in p_set:
            if kind in index:
                out[d, index[kind], _PRED] += 1
        if scheme == "strict":
            for kind, *_ in g_set & p_set:
                out[d, index[kind], _MATCHED_PRED] += 1
                out[d, index[kind], _MATCHED_GOLD] += 1
            continue
        for kind, a, b in p_set:
            if kind in index and any(k == kind and a <= e and s <= b for k, s, e in g_set):
                out[d, index[kind], _MATCHED_PRED] += 1
        for kind, a, b in g_set:
            if any(k == kind and a <= e and s <= b for k, s, e in p_set):
                out[d, index[kind], _MATCHED_GOLD] += 1
    return out


def _prf(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 over the last axis of counts; NaN where undefined (no predictions / no gold)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        precision = counts[..., _MATCHED_PRED] / counts[..., _PRED]
        recall = counts[..., _MATCHED_GOLD] / counts[..., _GOLD]
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        f1 = np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)
    return precision, recall, f1


def _estimate(value: float, samples: np.ndarray | None, level: float, what: str) -> Estimate:
    if np.isnan(value):
        return Estimate(value=None, note=f"undefined: no {what}")
    if samples is None or np.isnan(samples).all():
        return Estimate(value=float(value))
    alpha = (1 - level) / 2
    low, high = np.nanquantile(samples, [alpha, 1 - alpha])
    return Estimate(value=float(value), ci_low=float(low), ci_high=float(high))


def score_from_counts(total: np.ndarray, boot: np.ndarray | None, level: float) -> EntityScore:
    """An EntityScore from summed counts (4,) and optional bootstrap sums (n_boot, 4)."""
    p, r, f = _prf(total.astype(np.float64))
    bp, br, bf = _prf(boot.astype(np.float64)) if boot is not None else (None, None, None)
    return EntityScore(support=int(total[_GOLD]), predicted=int(total[_PRED]),
                       precision=_estimate(p, bp, level, "predictions"), recall=_estimate(r, br, level, "gold entities"),
                       f1=_estimate(f, bf, level, "predictions or gold entities"))


def entity_metrics(gold: list[list[str]], pred: list[list[str]], scheme: str, *, n_boot: int = 200,
                   ci_level: float = 0.95, seed: int = 13, types: list[str] | None = None) -> EntityMetrics:
    """Per-type and micro scores of predicted IOB2 tags against gold tags (one list of word tags per document)."""
    if scheme not in ("strict", "partial"):
        raise ValueError(f"scheme must be strict or partial, got {scheme!r}")
    types = types or sorted({t.partition("-")[2] for row in gold for t in row if t != "O"})
    counts = entity_counts(gold, pred, types, scheme)
    boot = None
    if n_boot and len(gold):
        rng = np.random.default_rng(seed)
        weights = rng.multinomial(len(gold), np.full(len(gold), 1 / len(gold)), size=n_boot)  # docs drawn per resample
        boot = np.einsum("bd,dtk->btk", weights, counts)  # (n_boot, n_types, 4)
    total = counts.sum(axis=0)
    per_entity = {t: score_from_counts(total[i], None if boot is None else boot[:, i], ci_level)
                  for i, t in enumerate(types)}
    micro = score_from_counts(total.sum(axis=0), None if boot is None else boot.sum(axis=1), ci_level)
    return EntityMetrics(scheme=scheme, micro=micro, per_entity=per_entity)


def entity_section(gold: list[list[str]], pred: list[list[str]], types: list[str], *, split: str, n_boot: int,
                   ci_level: float, seed: int, truncated_words: int = 0,
                   predictions_artifact: str | None = None) -> EntitySection:
    """Strict and partial entity metrics of one set of documents, as the record section."""
    kwargs = dict(n_boot=n_boot, ci_level=ci_level, seed=seed, types=types)
    return EntitySection(split=split, n_docs=len(gold), n_boot=n_boot, ci_level=ci_level, seed=seed,
                         strict=entity_metrics(gold, pred, "strict", **kwargs),
                         partial=entity_metrics(gold, pred, "partial", **kwargs),
                         truncated_words=truncated_words, predictions_artifact=predictions_artifact)
