"""Fingerprint of a data file for the record: file hash, normalised-table hash, shape."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from audit.core.io import sha256_file

from ._common import DataFingerprint

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fingerprint"]


def fingerprint(path: str | Path, frame: pd.DataFrame, *, role: str, fmt: str | None = None) -> DataFingerprint:
    """Describe the file at `path` and the table read from it (`frame`) as the record's DataFingerprint."""
    from audit.core.data import detect_format, table_sha256

    path = Path(path)
    return DataFingerprint(role=role, path=str(path), format=fmt or detect_format(path), file_sha256=sha256_file(path),
                           table_sha256=table_sha256(frame), rows=len(frame), columns=[str(c) for c in frame.columns])
