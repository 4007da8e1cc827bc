"""Stream production prediction logs in chunks into per-window statistics (text is described, then dropped)."""
from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit.core.config import MonitorConfig
from audit.core.data import column_names, iter_chunks, iter_columns
from audit.core.errors import BadInputError

from ._descriptors import TextDescriber
from ._stats import SCORE_BINS, GroupStats, WindowStats
from ._windows import WindowSpec

__all__ = ["LogSchema", "ingest_log", "score_histogram", "label_codes", "group_codes"]


@dataclass
class LogSchema:
    """What the monitor needs to read a log: the mapping, the model's labels and the favorable classes."""

    mapping: MonitorConfig
    labels: list[str]
    favorable: tuple[int, ...]
    sensitive: dict[str, str]  # feature -> log column
    unknown_group: str = "unknown"

    def proba_columns(self) -> list[str]:
        return [f"{self.mapping.proba_prefix}{label}" for label in self.labels]


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """Codes per row and the distinct values stripped (None for missing or empty): string work once per value."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    cleaned = [str(u).strip() or None for u in uniques]
    return codes, cleaned


def label_codes(values: pd.Series, labels: list[str], *, where: str, column: str, allow_missing: bool) -> np.ndarray:
    """Label index per row (-1 where missing and allowed); unknown labels are bad input (values are not shown)."""
    codes, uniques = _factorize(values)
    index = {label: i for i, label in enumerate(labels)}
    lookup = np.array([index.get(u, -2) if u is not None else -1 for u in uniques] + [-1], np.int64)
    out = lookup[codes]  # code -1 (missing) picks the trailing -1
    bad = (out == -2) | ((out == -1) & (not allow_missing))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise BadInputError(f"column {column!r} holds a value that is not a model label (first at chunk row {row + 1})",
                            where=where, fix=f"log labels must be one of {labels}")
    return out


def group_codes(values: pd.Series, unknown: str) -> tuple[np.ndarray, list[str]]:
    """Group index per row and the group names (missing or empty values -> the unknown group)."""
    codes, uniques = _factorize(values)
    names = sorted({u if u is not None else unknown for u in uniques} | ({unknown} if (codes < 0).any() else set()))
    position = {name: i for i, name in enumerate(names)}
    lookup = np.array([position[u if u is not None else unknown] for u in uniques]
                      + [position.get(unknown, 0)], np.int64)
    return lookup[codes], names


def score_histogram(top: np.ndarray) -> np.ndarray:
    return np.bincount(np.clip((top * SCORE_BINS).astype(np.int64), 0, SCORE_BINS - 1), minlength=SCORE_BINS)


def _columns(schema: LogSchema, header: list[str], where: str) -> tuple[list[str], bool]:
    m = schema.mapping
    need = [m.prediction_column, *schema.sensitive.values()]
    if schema.mapping.text_column:
        need.append(m.text_column)
    if m.label_column:
        need.append(m.label_column)
    probas = schema.proba_columns()
    has_proba = all(c in header for c in probas)
    if any(c in header for c in probas) and not has_proba:
        raise BadInputError(f"some probability columns are missing (need {probas})", where=where,
                            fix="log one probability per label, or none")
    return [*dict.fromkeys([*need, *(probas if has_proba else [])])], has_proba


def _window_index(chunk: pd.DataFrame, schema: LogSchema, spec: WindowSpec, offset: int, where: str) -> tuple[np.ndarray, np.ndarray | None]:
    if spec.kind == "rows":
        return (offset + np.arange(len(chunk))) // spec.size, None
    column = schema.mapping.timestamp_column
    raw = chunk[column]
    fmt = schema.mapping.timestamp_format or "ISO8601"
    times = pd.to_datetime(raw, utc=True, format=fmt, errors="coerce")
    bad = times.isna().to_numpy()
    if bad.any():
        row = offset + int(np.flatnonzero(bad)[0]) + 1
        raise BadInputError(f"column {column!r}: missing or unparsable timestamp (first at data row {row})",
                            where=where, fix="set monitor.timestamp_format (e.g. '%m/%d/%y') or fix the log")
    ns = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return spec.index_of_times(ns), ns


def _chunk_stats(part: pd.DataFrame, pred: np.ndarray, truth: np.ndarray, top: np.ndarray | None,
                 ns: np.ndarray | None, schema: LogSchema, describer: TextDescriber | None,
                 groups_of: dict[str, tuple[np.ndarray, list[str]]]) -> WindowStats:
    k = len(schema.labels)
    labeled = truth >= 0
    confusion = np.bincount(truth[labeled] * k + pred[labeled], minlength=k * k).reshape(k, k)
    groups = {}
    for feature, (codes, names) in groups_of.items():
        groups[feature] = GroupStats.from_codes(feature, codes, names, pred, truth, schema.labels, schema.favorable)
    text = None
    if describer is not None:
        texts = part[schema.mapping.text_column].astype("string").fillna("").tolist()
        text = describer.describe(texts)
        del texts
    first = last = None
    if ns is not None:
        first, last = (pd.Timestamp(int(v), tz="UTC").isoformat() for v in (ns.min(), ns.max()))
    return WindowStats(k, len(pred), first, last, np.bincount(pred, minlength=k),
                       None if top is None else score_histogram(top), confusion, text, groups)


def ingest_log(path: Path, schema: LogSchema, spec: WindowSpec, *, row_offset: int = 0,
               describer: TextDescriber | None = None,
               keep_texts: int = 0) -> Iterator[tuple[int, WindowStats, list[str]]]:
    """Yield (window index, statistics of this chunk's rows in it, its first `keep_texts` texts for the caller to
    embed and drop); callers merge the pieces per window."""
    where = str(path)
    header = column_names(path)  # CSV / Parquet: only the mapped columns are read; JSONL: from its first chunk
    chunks: Iterator[pd.DataFrame] | None = None
    if header is None:
        rows = iter_chunks(path, schema.mapping.chunk_rows)
        first = next(rows)
        header, chunks = list(first.columns), chain([first], rows)
    columns, has_proba = _columns(schema, header, where)
    if spec.kind == "time":
        columns = [*dict.fromkeys([*columns, schema.mapping.timestamp_column])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise BadInputError(f"missing column(s) {missing}", where=where, fix="fix the monitor: column mapping in the config")
    repeated = sorted({c for c in columns if header.count(c) > 1})
    if repeated:
        raise BadInputError(f"column(s) {repeated} appear more than once in the header", where=where,
                            fix="give every log column a distinct name")
    if chunks is None:
        chunks = iter_columns(path, schema.mapping.chunk_rows, columns,
                              floats=tuple(schema.proba_columns()) if has_proba else ())
    offset = row_offset
    for chunk in chunks:
        chunk = chunk[columns]
        index, ns = _window_index(chunk, schema, spec, offset, where)
        pred = label_codes(chunk[schema.mapping.prediction_column], schema.labels, where=where,
                           column=schema.mapping.prediction_column, allow_missing=False)
        truth = (label_codes(chunk[schema.mapping.label_column], schema.labels, where=where,
                             column=schema.mapping.label_column, allow_missing=True)
                 if schema.mapping.label_column else np.full(len(chunk), -1, np.int64))
        top = None
        if has_proba:
            try:
                proba = chunk[schema.proba_columns()].to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                proba = np.full((1, 1), np.nan)
            if np.isnan(proba).any() or (proba < 0).any() or (proba > 1).any():
                raise BadInputError("probability columns hold missing or out-of-range values", where=where,
                                    fix="probabilities must be numbers in [0, 1]")
            top = proba.max(axis=1)
        groups_of = {f: group_codes(chunk[c], schema.unknown_group) for f, c in schema.sensitive.items()}
        for window in np.unique(index):
            mask = index == window
            part = chunk[mask] if describer is not None else chunk.iloc[:0]
            texts = (part[schema.mapping.text_column].astype("string").fillna("").head(keep_texts).tolist()
                     if keep_texts and describer is not None else [])
            yield int(window), _chunk_stats(part, pred[mask], truth[mask], None if top is None else top[mask],
                                            None if ns is None else ns[mask], schema, describer,
                                            {f: (codes[mask], names) for f, (codes, names) in groups_of.items()}), texts
        offset += len(chunk)
