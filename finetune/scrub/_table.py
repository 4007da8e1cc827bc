"""Scrub one table in streaming chunks: text columns replaced, other columns copied; Parquet out; fingerprints
and the residual check computed on the fly, so memory stays flat as the file grows.
"""
from __future__ import annotations

import hashlib
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.core.config import DataSource
from audit.core.console import info, progress
from audit.core.data import detect_format, iter_chunks, table_sha256
from audit.core.errors import BadInputError
from audit.core.io import sha256_file
from audit.record import DataFingerprint, Execution, ResidualCheck, ScrubTable

from ._batch import Scrubber

__all__ = ["StreamingTableHash", "ChunkResult", "scrub_chunk", "scrub_table"]


class StreamingTableHash:
    """`audit.data.table_sha256` computed chunk by chunk (same digest as hashing the whole table at once)."""

    def __init__(self) -> None:
        self._digest: hashlib._Hash | None = None
        self.columns: list[str] = []
        self.rows = 0

    def update(self, frame: pd.DataFrame) -> None:
        ordered = frame[sorted(map(str, frame.columns))].astype("string").fillna("\x00")
        if self._digest is None:
            self.columns = [str(c) for c in frame.columns]
            self._digest = hashlib.sha256("\x1f".join(ordered.columns).encode("utf-8"))
        self._digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
        self.rows += len(frame)

    def hexdigest(self) -> str:
        assert self._digest is not None
        return self._digest.hexdigest()


def _text_values(chunk: pd.DataFrame, column: str, where: str, row0: int) -> tuple[list[str], np.ndarray]:
    """Non-missing cells of a text column and their positions; non-string cells are bad input."""
    values = chunk[column].to_numpy(dtype=object)
    missing = pd.isna(chunk[column]).to_numpy()
    bad = np.array([not m and not isinstance(v, str) for v, m in zip(values, missing)], dtype=bool)
    if bad.any():
        row = row0 + int(np.flatnonzero(bad)[0]) + 1
        raise BadInputError(f"column {column!r} has non-string cells (first at data row {row})", where=where,
                            fix="text columns must hold strings; convert or map another column")
    positions = np.flatnonzero(~missing)
    return [values[i] for i in positions], positions


def _arrow_table(chunk: pd.DataFrame, schema: object, where: str) -> object:
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise BadInputError(f"a column changes type between chunks ({str(err).splitlines()[0][:160]})", where=where,
                            fix="clean the column types, or raise scrub.chunk_rows to read more rows per chunk") from None


@dataclass
class ChunkResult:
    """One scrubbed chunk and its statistics; adds up over chunks (and over shards on Ray)."""

    frame: pd.DataFrame
    counts: dict[str, Counter[str]]
    residual: Counter[str] = field(default_factory=Counter)
    rows_touched: int = 0
    rows_checked: int = 0
    rows_rescanned: int = 0
    texts: int = 0
    analyzed: int = 0

    def stats(self) -> dict[str, Any]:
        """Everything but the frame, as JSON-able data (the shard cache stores it beside the frame)."""
        return {"counts": {c: dict(v) for c, v in self.counts.items()}, "residual": dict(self.residual),
                "rows_touched": self.rows_touched, "rows_checked": self.rows_checked,
                "rows_rescanned": self.rows_rescanned, "texts": self.texts, "analyzed": self.analyzed}

    @classmethod
    def from_stats(cls, frame: pd.DataFrame, stats: dict[str, Any]) -> "ChunkResult":
        return cls(frame=frame, counts={c: Counter(v) for c, v in stats["counts"].items()},
                   residual=Counter(stats["residual"]),
                   **{k: stats[k] for k in ("rows_touched", "rows_checked", "rows_rescanned", "texts", "analyzed")})


def scrub_chunk(scrubber: Scrubber, chunk: pd.DataFrame, text_columns: list[str], *, where: str, row0: int,
                residual_check: bool, on_batch: Callable[[int], None] | None = None) -> ChunkResult:
    """Scrub the text columns of one chunk (rows `row0`...): the unit of work of both engines."""
    whole_rescan = scrubber.config.residual_scope == "whole_text"
    result = ChunkResult(frame=chunk.copy(), counts={c: Counter() for c in text_columns})
    touched = np.zeros(len(chunk), dtype=bool)
    for column in text_columns:
        texts, positions = _text_values(chunk, column, where, row0)
        analyzed = scrubber.analyzed
        scrubbed = scrubber.scrub(texts, on_batch=on_batch)
        if on_batch is not None:
            on_batch(len(texts) - (scrubber.analyzed - analyzed))  # duplicates and cache hits
        result.analyzed += scrubber.analyzed - analyzed
        result.texts += len(texts)
        new_values = chunk[column].to_numpy(dtype=object).copy()
        unchecked = []
        for pos, item in zip(positions, scrubbed):
            new_values[pos] = item.text
            if item.counts:
                result.counts[column].update(item.counts)
                touched[pos] = True
                result.rows_checked += 1
                if whole_rescan or not item.checked:
                    unchecked.append(item.text)
        result.frame[column] = pd.Series(new_values, dtype=object)
        if residual_check and unchecked:
            for found in scrubber.find(unchecked):
                result.residual.update(found)
            result.rows_rescanned += len(unchecked)
    result.rows_touched = int(touched.sum())
    return result


ChunkRunner = Callable[[Iterator[tuple[int, int, pd.DataFrame]]], Iterator[ChunkResult]]


def scrub_table(scrubber: Scrubber, source: DataSource, text_columns: list[str], out_path: Path, *, role: str,
                residual_check: bool, runner: ChunkRunner | None = None,
                execution: Execution | None = None) -> ScrubTable:
    """Scrub `source` into the Parquet file `out_path` (caller owns atomicity) and return its record.

    `runner` maps (index, first row, chunk) triples to their ChunkResults in order; the default scrubs them here
    with `scrubber`. The Ray engine passes its own (finetune/scrub/_ray.py) and an `execution` to fill in.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    where = str(source.path)
    fmt = detect_format(source)
    started = time.perf_counter()
    in_hash, out_hash = StreamingTableHash(), StreamingTableHash()
    counts: dict[str, Counter[str]] = {c: Counter() for c in text_columns}
    residual: Counter[str] = Counter()
    rows_touched = rows_checked = rows_rescanned = texts_done = analyzed = 0
    writer = None
    bar = progress(itertools.repeat(None), desc=f"scrub {role}", unit="text")  # advanced per batch of texts
    next(bar)

    def advance(n: int) -> None:
        for _ in range(n):
            next(bar)

    def chunks() -> Iterator[tuple[int, int, pd.DataFrame]]:
        for index, chunk in enumerate(iter_chunks(source, scrubber.config.chunk_rows)):
            chunk = chunk.reset_index(drop=True)
            if in_hash.rows == 0:
                missing = [c for c in text_columns if c not in chunk.columns]
                if missing:
                    shown = ", ".join(map(str, list(chunk.columns)[:20]))
                    raise BadInputError(f"missing text column(s) {missing}", where=where,
                                        fix=f"fix data.text_columns in the config; the file has: {shown}")
            in_hash.update(chunk)
            yield index, in_hash.rows - len(chunk), chunk

    def local(items: Iterator[tuple[int, int, pd.DataFrame]]) -> Iterator[ChunkResult]:
        for _, row0, chunk in items:
            yield scrub_chunk(scrubber, chunk, text_columns, where=where, row0=row0, residual_check=residual_check,
                              on_batch=advance)

    try:
        for result in (runner or local)(chunks()):
            if runner is not None:
                advance(result.texts)
            for column in text_columns:
                counts[column].update(result.counts[column])
            residual.update(result.residual)
            rows_touched += result.rows_touched
            rows_checked += result.rows_checked
            rows_rescanned += result.rows_rescanned
            texts_done += result.texts
            analyzed += result.analyzed
            out = result.frame
            if writer is None:
                schema = pa.Schema.from_pandas(out, preserve_index=False)
                for column in text_columns:
                    schema = schema.set(schema.get_field_index(column), pa.field(column, pa.string()))
                writer = pq.ParquetWriter(out_path, schema)
            table = _arrow_table(out, writer.schema, where)
            writer.write_table(table)
            out_frame = table.to_pandas()
            out_hash.update(out_frame)
            if execution is not None:
                execution.shard_sha256.append(table_sha256(out_frame))
    except OSError as err:
        raise BadInputError(f"cannot read the data file: {type(err).__name__}: {err.strerror or err}",
                            where=where) from None
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    rows = in_hash.rows
    if rows == 0:  # e.g. a CSV with only a header: pandas yields one empty chunk
        raise BadInputError("data file has no rows", where=where)
    wall = time.perf_counter() - started
    found = {k: v for k, v in sorted(residual.items())}
    info(f"scrub {role}: {rows} rows, {rows_touched} touched, {texts_done / max(wall, 1e-9):.0f} texts/s")
    if execution is not None:
        execution.shards = len(execution.shard_sha256)
    return ScrubTable(
        role=role, columns=list(text_columns), rows_total=rows, rows_touched=rows_touched,
        share_rows_touched=rows_touched / rows if rows else 0.0, unique_texts=analyzed,
        counts={c: dict(sorted(v.items())) for c, v in counts.items()},
        input=DataFingerprint(role=role, path=str(source.path), format=fmt, file_sha256=sha256_file(source.path),
                              table_sha256=in_hash.hexdigest(), rows=rows, columns=in_hash.columns),
        output=DataFingerprint(role=f"scrubbed_{role}", path=str(out_path), format="parquet",
                               file_sha256=sha256_file(out_path), table_sha256=out_hash.hexdigest(), rows=rows,
                               columns=out_hash.columns),
        output_artifact=None,
        residual=ResidualCheck(passed=not found, rows_scanned=rows_checked if residual_check else 0,
                               rows_rescanned_whole=rows_rescanned, scope=scrubber.config.residual_scope,
                               found=found) if residual_check else None,
        wall_time_s=round(wall, 3), texts_per_s=round(texts_done / wall, 1) if wall > 0 else 0.0,
        execution=execution,
    )
