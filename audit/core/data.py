"""Data layer: read CSV / JSONL / Parquet with an explicit column mapping and validate it.

Every problem is a `BadInputError` (exit 2) naming the file, the column and, where it helps, the row — never the
cell value, which may hold PII.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import DataConfig, DataSource
from .errors import BadInputError
from .io import sha256_bytes

__all__ = ["ROW_ID", "TEXT", "LABEL", "detect_format", "read_table", "iter_chunks", "column_names", "iter_columns",
           "validate_table", "ValidatedTable", "table_sha256", "join_text"]

ROW_ID, TEXT, LABEL = "row_id", "text", "label"
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def detect_format(source: DataSource | str | Path) -> str:
    path, fmt = (source.path, source.format) if isinstance(source, DataSource) else (Path(source), "auto")
    if fmt != "auto":
        return fmt
    fmt = _SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise BadInputError(f"cannot tell the format of {path}", fix="use .csv, .jsonl or .parquet, or set format:")
    return fmt


_NO_ROWS_FIX = "the file has no data rows: check the export (header plus at least one row) or the path"


def _check_readable(path: Path, fmt: str) -> None:
    if path.is_dir():
        raise BadInputError(f"data path is a directory, not a file: {path}",
                            fix="point data.*.path (or --input) at a .csv, .jsonl or .parquet file inside it")
    if not path.is_file():
        raise BadInputError(f"data file not found: {path}", fix="check data.*.path in the config")
    if path.stat().st_size == 0:
        raise BadInputError("data file is empty (0 bytes)", where=str(path), fix=_NO_ROWS_FIX)
    if fmt in ("csv", "jsonl"):
        _check_utf8(path)


def _check_utf8(path: Path, chunk: int = 1 << 20) -> None:
    """Find the first invalid UTF-8 byte and report its line, so the user can fix the export."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                bad = offset + err.start
                line += block[: err.start].count(b"\n")
                raise BadInputError(f"not UTF-8: invalid byte at offset {bad} (line {line})", where=str(path),
                                    fix="re-export the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)") from None
            line += block.count(b"\n")
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise BadInputError(f"not UTF-8: truncated character at end (line {line})", where=str(path)) from None


def read_table(source: DataSource | str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a whole table; string columns stay strings (no type guessing on ids)."""
    path = Path(source.path if isinstance(source, DataSource) else source)
    fmt = detect_format(source)
    _check_readable(path, fmt)
    try:
        if fmt == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=True, encoding="utf-8")
        elif fmt == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise BadInputError("data file has no header and no rows", where=str(path), fix=_NO_ROWS_FIX) from None
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise _read_error(path, fmt, err) from None
    except Exception as err:  # pyarrow raises its own types for corrupt files
        raise BadInputError(f"cannot read {fmt.upper()}: {type(err).__name__}", where=str(path)) from None
    if frame.empty:
        raise BadInputError("data file has no rows", where=str(path), fix=_NO_ROWS_FIX)
    if columns:
        _require_columns(frame, columns, str(path))
        frame = frame[columns]
    return frame


def iter_chunks(source: DataSource | str | Path, chunk_rows: int, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """Stream a table in chunks of `chunk_rows` (CSV and JSONL natively, Parquet by row group batches)."""
    path = Path(source.path if isinstance(source, DataSource) else source)
    fmt = detect_format(source)
    _check_readable(path, fmt)
    try:
        if fmt == "csv":
            reader = pd.read_csv(path, dtype=str, chunksize=chunk_rows, encoding="utf-8")
        elif fmt == "jsonl":
            reader = pd.read_json(path, lines=True, dtype=False, chunksize=chunk_rows)
        else:
            import pyarrow.parquet as pq

            reader = (batch.to_pandas() for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows))
        first = True
        for chunk in reader:
            if columns and first:
                _require_columns(chunk, columns, str(path))
            if chunk.empty:
                continue
            first = False
            yield chunk[columns] if columns else chunk
        if first:
            raise BadInputError("data file has no rows", where=str(path), fix=_NO_ROWS_FIX)
    except BadInputError:
        raise
    except pd.errors.EmptyDataError:
        raise BadInputError("data file has no header and no rows", where=str(path), fix=_NO_ROWS_FIX) from None
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise _read_error(path, fmt, err) from None


# pandas' default missing-value markers (pandas._libs.parsers.STR_NA_VALUES), so both readers agree on what is missing
_NA_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
              "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
_CSV_BLOCK_BYTES = 1 << 20


def column_names(source: DataSource | str | Path) -> list[str] | None:
    """The columns of a CSV header or a Parquet schema (None for JSONL, whose rows name their own keys)."""
    path = Path(source.path if isinstance(source, DataSource) else source)
    fmt = detect_format(source)
    _check_readable(path, fmt)
    if fmt == "jsonl":
        return None
    try:
        if fmt == "csv":
            import csv

            with open(path, encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), None)
            if not header:
                raise BadInputError("data file has no header and no rows", where=str(path), fix=_NO_ROWS_FIX)
            return [name.removeprefix("\ufeff") if i == 0 else name for i, name in enumerate(header)]
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    except BadInputError:
        raise
    except Exception as err:  # csv.Error, pyarrow's errors on corrupt files
        raise BadInputError(f"cannot read the {fmt.upper()} header: {type(err).__name__}", where=str(path)) from None


def iter_columns(source: DataSource | str | Path, chunk_rows: int, columns: list[str], *,
                 floats: tuple[str, ...] = ()) -> Iterator[pd.DataFrame]:
    """Stream only `columns` of a CSV or Parquet file in chunks of exactly `chunk_rows` rows (the last may be
    shorter); CSV cells are strings (pandas' missing markers -> missing), `floats` columns float64. CSV is parsed by
    pyarrow's streaming reader, so memory is one chunk plus one block. Check the columns first (`column_names`)."""
    path = Path(source.path if isinstance(source, DataSource) else source)
    fmt = detect_format(source)
    _check_readable(path, fmt)
    if fmt == "jsonl":
        raise ValueError("iter_columns reads CSV and Parquet; use iter_chunks for JSONL")
    rows = 0
    for table in _rebatch(_arrow_batches(path, fmt, columns), chunk_rows):
        frame = table.to_pandas()
        for name in floats:
            frame[name] = _float_column(table.column(name), name, rows, str(path))
        rows += len(frame)
        yield frame
    if rows == 0:
        raise BadInputError("data file has no rows", where=str(path), fix=_NO_ROWS_FIX)


def _arrow_batches(path: Path, fmt: str, columns: list[str]) -> Iterator[Any]:
    import pyarrow as pa

    if fmt == "parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=65_536, columns=columns)
        return
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(include_columns=columns, column_types={c: pa.string() for c in columns},
                                   null_values=_NA_VALUES, strings_can_be_null=True, quoted_strings_can_be_null=True)
    try:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
                                parse_options=pacsv.ParseOptions(newlines_in_values=True), convert_options=convert)
        yield from reader
    except pa.ArrowInvalid:  # its message quotes the offending row: never shown
        raise _csv_structure_error(path) from None


def _rebatch(batches: Iterator[Any], chunk_rows: int) -> Iterator[Any]:
    """Arrow record batches regrouped into tables of `chunk_rows` rows (zero-copy slices)."""
    import pyarrow as pa

    pending: list[Any] = []
    have = 0
    for batch in batches:
        pending.append(batch)
        have += batch.num_rows
        while have >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, chunk_rows)
            rest = table.slice(chunk_rows)
            pending, have = rest.to_batches(), rest.num_rows
    if have:
        yield pa.Table.from_batches(pending)


def _float_column(column: Any, name: str, offset: int, where: str) -> np.ndarray:
    """float64 values of a string column (missing -> NaN); a cell that is not a number is bad input (not shown)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return column.to_numpy().astype(np.float64)
    try:
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = pd.Series(column.to_pandas())
        bad = values.notna() & pd.to_numeric(values, errors="coerce").isna()
        row = offset + int(np.flatnonzero(bad.to_numpy())[0]) + 1 if bad.any() else offset + 1
        raise BadInputError(f"column {name!r} holds a value that is not a number (first at data row {row})",
                            where=where, fix="this column must hold numbers; fix the log or the column mapping") from None


def _csv_structure_error(path: Path) -> BadInputError:
    """The first data row whose field count differs from the header's (found with the csv module, values unseen)."""
    import csv

    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            expected, number = len(next(reader)), 0
            for row in reader:
                number += bool(row)  # blank lines are skipped by both readers
                if row and len(row) != expected:
                    return BadInputError(f"data row {number} has {len(row)} fields, the header has {expected}",
                                         where=f"{path}:{reader.line_num}",
                                         fix="quote fields holding commas or newlines; every row needs the header's fields")
        except csv.Error as err:
            return BadInputError(f"malformed CSV near line {reader.line_num}: {str(err).split(':')[0]}",
                                 where=str(path), fix="check the quoting of that row (an unclosed '\"'?)")
    return BadInputError("cannot parse the CSV (malformed quoting or fields)", where=str(path),
                         fix="re-export the file as RFC 4180 CSV")


def _read_error(path: Path, fmt: str, err: Exception) -> BadInputError:
    """A reader's error as bad input; for JSONL the first line that is not a JSON object (pandas gives offsets)."""
    if fmt == "jsonl":
        import json

        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    ok = isinstance(json.loads(line), dict)
                except ValueError:
                    ok = False
                if not ok:
                    return BadInputError(f"line {number} is not a JSON object", where=f"{path}:{number}",
                                         fix="each line of a JSONL file must be one JSON object, e.g. {\"text\": ...}")
    return BadInputError(f"cannot read {fmt.upper()}: {str(err).splitlines()[0][:200]}", where=str(path))


def _require_columns(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, list(frame.columns)[:20]))
        raise BadInputError(f"missing column(s) {missing}", where=where,
                            fix=f"fix the column mapping in the config; the file has: {shown}")


def join_text(frame: pd.DataFrame, text_columns: list[str]) -> pd.Series:
    parts = [frame[c].astype("string").fillna("") for c in text_columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.str.cat(part, sep="\n")
    return joined.str.strip()


@dataclass
class ValidatedTable:
    """Canonical table: `row_id`, `text`, `label` (str), then the sensitive-feature columns (str, 'unknown' filled)."""

    frame: pd.DataFrame
    labels: list[str]
    unknown_counts: dict[str, int] = field(default_factory=dict)
    fingerprint: Any = None  # the file's audit.record.DataFingerprint, set by the stage that read it


def validate_table(frame: pd.DataFrame, mapping: DataConfig, *, where: str, role: str = "train",
                   known_labels: list[str] | None = None, require_label: bool = True) -> ValidatedTable:
    """Check the mapping against the data and return the canonical table; raise on the first class of problem."""
    needed = [*mapping.text_columns, *mapping.sensitive_features]
    if require_label:
        needed.append(mapping.label_column)
    if mapping.id_column:
        needed.append(mapping.id_column)
    _require_columns(frame, needed, where)

    for column in mapping.text_columns:
        values = frame[column]
        non_string = values.map(lambda v: v is not None and not isinstance(v, str) and not pd.isna(v))
        if non_string.any():
            row = int(np.flatnonzero(non_string.to_numpy())[0])
            raise BadInputError(f"column {column!r} has non-string cells (first at row {row + 1})", where=where,
                                fix="text columns must hold strings; convert or map another column")
    text = join_text(frame, mapping.text_columns)
    empty = text.isna() | (text.str.len() == 0)
    if empty.any():
        rows = (np.flatnonzero(empty.to_numpy())[:5] + 1).tolist()
        raise BadInputError(f"{int(empty.sum())} row(s) with empty or missing text (rows {rows})", where=where,
                            fix="drop those rows or fill the text column")

    out = pd.DataFrame({TEXT: text.astype(str).to_numpy()})
    if mapping.id_column:
        ids = frame[mapping.id_column]
        if ids.isna().any():
            raise BadInputError(f"id column {mapping.id_column!r} has missing values", where=where)
        ids = ids.astype(str).str.strip()
        repeated = ids.duplicated(keep=False).to_numpy()
        if repeated.any():
            first = ids.to_numpy()[repeated][0]  # compared, never shown: ids may be e-mail addresses
            rows = (np.flatnonzero((ids == first).to_numpy())[:5] + 1).tolist()
            n_dupes = int(ids[ids.duplicated()].nunique())
            raise BadInputError(f"id column {mapping.id_column!r} has {n_dupes} duplicate id(s); the first repeats in "
                                f"rows {rows}", where=where, fix="ids must be unique: de-duplicate the rows or map another id column")
        out.insert(0, ROW_ID, ids.to_numpy())
    else:
        out.insert(0, ROW_ID, [str(i) for i in range(len(frame))])

    labels: list[str] = []
    if require_label:
        raw = frame[mapping.label_column]
        missing = raw.isna() | (raw.astype(str).str.strip() == "")
        if missing.any():
            rows = (np.flatnonzero(missing.to_numpy())[:5] + 1).tolist()
            raise BadInputError(f"{int(missing.sum())} row(s) with a missing label in {mapping.label_column!r} (rows {rows})",
                                where=where, fix="drop unlabelled rows before training or auditing")
        label = raw.astype(str).str.strip()
        labels = sorted(label.unique().tolist())
        if role == "train" and len(labels) < 2:
            raise BadInputError(f"label column {mapping.label_column!r} has a single class ({labels[0]!r})", where=where,
                                fix="a classifier needs at least two classes")
        if known_labels is not None:
            unseen = sorted(set(labels) - set(known_labels))
            if unseen:
                raise BadInputError(f"labels {unseen} were not seen by the model (it knows {known_labels})", where=where,
                                    fix="audit with data labelled in the model's label set")
        out[LABEL] = label.to_numpy()

    unknown_counts: dict[str, int] = {}
    for column in mapping.sensitive_features:
        values = frame[column].astype("string").str.strip()
        missing = values.isna() | (values == "")
        unknown_counts[column] = int(missing.sum())
        out[column] = values.mask(missing, mapping.unknown_group).astype(str).to_numpy()
    return ValidatedTable(frame=out, labels=labels, unknown_counts=unknown_counts)


def table_sha256(frame: pd.DataFrame) -> str:
    """Order-sensitive hash of the normalised table: columns sorted, values hashed row by row as strings."""
    ordered = frame[sorted(map(str, frame.columns))].astype("string").fillna("\x00")
    row_hashes = pd.util.hash_pandas_object(ordered, index=False).to_numpy()
    header = "\x1f".join(ordered.columns).encode("utf-8")
    return sha256_bytes(header + row_hashes.tobytes())
