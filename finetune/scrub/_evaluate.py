"""The PII-recall certificate: score the configured scrubber on labelled documents (`govaudit scrub --evaluate`).

Per labelled value (a span of the labelled file; its type mapped to a scrubber type by `entity_map`):
- recall: detections of any type cover >= 50% of its characters;
- type recall: detections of the mapped type cover >= 50% of its characters;
- values gone: the value's text no longer occurs in the scrubbed text (all passes; what the targets count).
Per detection: precision = labelled values whose type maps to the detection's type cover >= 50% of its characters
(labelled types mapping to the same scrubber type share that precision). Micro = over all labelled values / all detections. CIs: percentile bootstrap over documents. Only counts are
recorded, never a value.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audit.core.config import DataConfig, ProjectConfig
from audit.core.errors import BadInputError
from audit.core.io import sha256_bytes, sha256_file
from audit.core.spans import SpanDoc, read_span_docs, span_format
from audit.record import DataFingerprint, Estimate, PiiEntityScore, PiiEvaluation, RunRecord
from audit.record.store import RunStore, begin_run, finish_stage

from ._batch import Scrubber

__all__ = ["DEFAULT_ENTITY_MAP", "read_labelled", "evaluate_scrubber", "coverage", "parse_entity_map",
           "run_pii_evaluation"]

DEFAULT_ENTITY_MAP = {"GPE": "LOCATION", "DOMAIN_NAME": "URL", "ADDRESS": "STREET_ADDRESS", "DATE_TIME": "DATE_OF_BIRTH"}
_FOUND, _TYPE_FOUND, _GONE, _GOLD, _TP_DET, _DET = range(6)


def coverage(start: int, end: int, spans: Sequence[tuple[int, int]]) -> float:
    """Share of the characters [start, end) covered by the union of `spans`."""
    covered = np.zeros(end - start, dtype=bool)
    for a, b in spans:
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            covered[lo - start : hi - start] = True
    return float(covered.mean()) if end > start else 0.0


def read_labelled(path: Path) -> tuple[list[SpanDoc], DataFingerprint]:
    """Labelled documents (JSONL / JSON list with text + spans, Presidio's span keys accepted, or CoNLL)."""
    mapping = DataConfig(text_columns=["text"], label_column="spans")
    docs = read_span_docs(path, mapping)
    canonical = repr([(d.text, [(s.start, s.end, s.label) for s in d.spans]) for d in docs]).encode("utf-8")
    fp = DataFingerprint(role="labelled", path=str(path), format=span_format(path), file_sha256=sha256_file(path),
                         table_sha256=sha256_bytes(canonical), rows=len(docs), columns=["text", "spans"])
    return docs, fp


def _estimate(num: np.ndarray, den: np.ndarray, boot_num: np.ndarray | None, boot_den: np.ndarray | None,
              level: float, what: str) -> Estimate:
    if den == 0:
        return Estimate(value=None, note=f"no {what}")
    value = float(num / den)
    if boot_num is None:
        return Estimate(value=value)
    with np.errstate(invalid="ignore", divide="ignore"):
        samples = boot_num / boot_den
    alpha = (1 - level) / 2
    low, high = np.nanquantile(samples, [alpha, 1 - alpha])
    return Estimate(value=value, ci_low=float(low), ci_high=float(high))


def _score(total: np.ndarray, boot: np.ndarray | None, level: float) -> PiiEntityScore:
    b = (lambda k: None if boot is None else boot[:, k])  # noqa: E731
    return PiiEntityScore(
        support=int(total[_GOLD]), detected=int(total[_DET]),
        recall=_estimate(total[_FOUND], total[_GOLD], b(_FOUND), b(_GOLD), level, "labelled values"),
        type_recall=_estimate(total[_TYPE_FOUND], total[_GOLD], b(_TYPE_FOUND), b(_GOLD), level, "labelled values"),
        values_gone=_estimate(total[_GONE], total[_GOLD], b(_GONE), b(_GOLD), level, "labelled values"),
        precision=_estimate(total[_TP_DET], total[_DET], b(_TP_DET), b(_DET), level, "detections"))


def evaluate_scrubber(scrubber: Scrubber, docs: list[SpanDoc], data: DataFingerprint, *,
                      entity_map: dict[str, str] | None = None, n_boot: int = 200, ci_level: float = 0.95,
                      seed: int = 13) -> PiiEvaluation:
    """Recall, values gone and precision of `scrubber` on labelled documents, per labelled type and micro."""
    started = time.perf_counter()
    mapping = {**DEFAULT_ENTITY_MAP, **(entity_map or {})}
    texts = [d.text for d in docs]
    detections = scrubber.spans(texts)
    scrubbed = [r.text for r in scrubber.scrub(texts)]
    labels = sorted({s.label for d in docs for s in d.spans})
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(docs), len(labels), 6), dtype=np.int64)
    per_doc_det = np.zeros((len(docs), 2), dtype=np.int64)  # detections, detections on a labelled value of their type
    for d, (doc, found, after) in enumerate(zip(docs, detections, scrubbed)):
        every = [(a, b) for _, a, b in found]
        for span in doc.spans:
            row = counts[d, index[span.label]]
            target = mapping.get(span.label, span.label)
            row[_GOLD] += 1
            row[_FOUND] += coverage(span.start, span.end, every) >= 0.5
            row[_TYPE_FOUND] += coverage(span.start, span.end, [(a, b) for t, a, b in found if t == target]) >= 0.5
            row[_GONE] += doc.text[span.start : span.end].strip() not in after
        for kind, a, b in found:
            hit = coverage(a, b, [(s.start, s.end) for s in doc.spans if mapping.get(s.label, s.label) == kind]) >= 0.5
            per_doc_det[d] += (1, int(hit))
            for label in labels:  # shared by every labelled type that maps to this scrubber type
                if mapping.get(label, label) == kind:
                    counts[d, index[label], _DET] += 1
                    counts[d, index[label], _TP_DET] += int(hit)
    boot = None
    if n_boot and docs:
        rng = np.random.default_rng(seed)
        weights = rng.multinomial(len(docs), np.full(len(docs), 1 / len(docs)), size=n_boot)
        boot = np.einsum("bd,dtk->btk", weights, counts)
    total = counts.sum(axis=0)
    micro_total = total.sum(axis=0)
    micro_total[_DET], micro_total[_TP_DET] = per_doc_det.sum(axis=0)
    micro_boot = None
    if boot is not None:
        micro_boot = boot.sum(axis=1)
        micro_boot[:, _DET] = weights @ per_doc_det[:, 0]
        micro_boot[:, _TP_DET] = weights @ per_doc_det[:, 1]
    return PiiEvaluation(
        data=data, n_docs=len(docs), mode=scrubber.config.mode,
        entity_map={label: mapping.get(label, label) for label in labels},
        per_entity={label: _score(total[i], None if boot is None else boot[:, i], ci_level)
                    for i, label in enumerate(labels)},
        micro=_score(micro_total, micro_boot, ci_level), n_boot=n_boot, ci_level=ci_level, seed=seed,
        wall_time_s=round(time.perf_counter() - started, 3))


def parse_entity_map(items: Sequence[str]) -> dict[str, str]:
    """`LABEL=SCRUBBER_TYPE` pairs (--entity-map) as a mapping."""
    out = {}
    for item in items:
        label, sep, target = item.partition("=")
        if not sep or not label.strip() or not target.strip():
            raise BadInputError(f"--entity-map {item!r} is not LABEL=TYPE", where="--entity-map",
                                fix="e.g. --entity-map STREET_ADDRESS=LOCATION")
        out[label.strip()] = target.strip()
    return out


def run_pii_evaluation(project: ProjectConfig, store: RunStore, path: Path, *, run_id: str | None = None,
                       entity_map: dict[str, str] | None = None, n_boot: int = 200,
                       seed: int = 13) -> RunRecord:
    """Score the project's scrubber on labelled documents and save `record.pii_evaluation` (stage 'pii_evaluation')."""
    if run_id:
        store.load(run_id)  # fail fast on an unknown run
    docs, data = read_labelled(Path(path))
    if not any(d.spans for d in docs):
        raise BadInputError("the labelled file has no spans", where=str(path),
                            fix='each document needs "spans": [{"start": .., "end": .., "label": ..}]')
    with Scrubber(project.scrub) as scrubber:
        section = evaluate_scrubber(scrubber, docs, data, entity_map=entity_map, n_boot=n_boot, seed=seed)
    record = begin_run(store, project, run_id, "pii_evaluation")
    record.pii_evaluation = section
    finish_stage(store, record, "pii_evaluation")
    return record
