"""Scrub one table in streaming chunks: text columns replaced, other columns copied; Parquet out; fingerprints
and the residual check computed on the fly, so memory stays flat as the file grows.
"""
from __future__ import annotations

import hashlib
import itertools
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from audit.core.config import DataSource
from audit.core.console import info, progress
from audit.core.data import detect_format, iter_chunks
from audit.core.errors import BadInputError
from audit.core.io import sha256_file
from audit.record import DataFingerprint, ResidualCheck, ScrubTable

from ._batch import Scrubber

__all__ = ["StreamingTableHash", "scrub_table"]


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


def scrub_table(scrubber: Scrubber, source: DataSource, text_columns: list[str], out_path: Path, *, role: str,
                residual_check: bool) -> ScrubTable:
    """Scrub `source` into the Parquet file `out_path` (caller owns atomicity) and return its record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    where = str(source.path)
    fmt = detect_format(source)
    started = time.perf_counter()
    in_hash, out_hash = StreamingTableHash(), StreamingTableHash()
    counts: dict[str, Counter[str]] = {c: Counter() for c in text_columns}
    residual: Counter[str] = Counter()
    rows_touched = rows_checked = rows_rescanned = texts_done = 0
    whole_rescan = scrubber.config.residual_scope == "whole_text"
    writer = None
    analyzed0 = scrubber.analyzed
    bar = progress(itertools.repeat(None), desc=f"scrub {role}", unit="text")  # advanced per batch of texts
    next(bar)

    def advance(n: int) -> None:
        for _ in range(n):
            next(bar)

    try:
        for chunk in iter_chunks(source, scrubber.config.chunk_rows):
            chunk = chunk.reset_index(drop=True)
            if in_hash.rows == 0:
                missing = [c for c in text_columns if c not in chunk.columns]
                if missing:
                    shown = ", ".join(map(str, list(chunk.columns)[:20]))
                    raise BadInputError(f"missing text column(s) {missing}", where=where,
                                        fix=f"fix data.text_columns in the config; the file has: {shown}")
            in_hash.update(chunk)
            touched = np.zeros(len(chunk), dtype=bool)
            out = chunk.copy()
            for column in text_columns:
                texts, positions = _text_values(chunk, column, where, in_hash.rows - len(chunk))
                analyzed = scrubber.analyzed
                results = scrubber.scrub(texts, on_batch=advance)
                advance(len(texts) - (scrubber.analyzed - analyzed))  # duplicates and cache hits
                texts_done += len(texts)
                new_values = chunk[column].to_numpy(dtype=object).copy()
                unchecked = []
                for pos, result in zip(positions, results):
                    new_values[pos] = result.text
                    if result.counts:
                        counts[column].update(result.counts)
                        touched[pos] = True
                        rows_checked += 1
                        if whole_rescan or not result.checked:
                            unchecked.append(result.text)
                out[column] = pd.Series(new_values, dtype=object)
                if residual_check and unchecked:
                    for found in scrubber.find(unchecked):
                        residual.update(found)
                    rows_rescanned += len(unchecked)
            rows_touched += int(touched.sum())
            if writer is None:
                schema = pa.Schema.from_pandas(out, preserve_index=False)
                for column in text_columns:
                    schema = schema.set(schema.get_field_index(column), pa.field(column, pa.string()))
                writer = pq.ParquetWriter(out_path, schema)
            table = _arrow_table(out, writer.schema, where)
            writer.write_table(table)
            out_hash.update(table.to_pandas())
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
    return ScrubTable(
        role=role, columns=list(text_columns), rows_total=rows, rows_touched=rows_touched,
        share_rows_touched=rows_touched / rows if rows else 0.0, unique_texts=scrubber.analyzed - analyzed0,
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
    )
