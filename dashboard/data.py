"""Reads for the dashboard: settings from the environment, the run index, records and predictions, all cached.

Records are cached by their SHA-256 (st.cache_resource: parsed once, shared read-only by every session); predictions
summaries by the artifact's path, size and mtime. Nothing here writes except the sign-off ledger.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from audit.core.errors import BadInputError
from audit.core.io import sha256_bytes
from audit.record import RunRecord, record_from_json
from audit.record.reviewers import REVIEWERS_FILE, ReviewerList
from audit.record.signoff import LedgerCheck, SignoffLedger, run_owner
from audit.record.store import RECORD_FILE, RunStore

__all__ = ["Settings", "settings", "open_store", "open_ledger", "reviewer_list", "runs_frame", "load_run", "LoadedRun",
           "subject_sha256", "score_histogram", "SIGNOFF_STATES", "clear_record_caches"]

SIGNOFF_STATES = ("approved", "rejected", "changes requested", "approved (older evidence)", "trail broken", "none")


@dataclass(frozen=True)
class Settings:
    runs_root: Path
    database_url: str | None
    reviewers: Path


def settings() -> Settings:
    """From the environment set by `govaudit dashboard` (GOVAUDIT_RUNS_ROOT, GOVAUDIT_DB_URL, GOVAUDIT_REVIEWERS)."""
    root = Path(os.environ.get("GOVAUDIT_RUNS_ROOT", "runs"))
    return Settings(root, os.environ.get("GOVAUDIT_DB_URL") or None,
                    Path(os.environ.get("GOVAUDIT_REVIEWERS") or root / REVIEWERS_FILE))


def open_store() -> RunStore:
    conf = settings()
    if not conf.runs_root.is_dir():
        raise BadInputError(f"run store not found at {conf.runs_root}",
                            fix="start the dashboard with --runs-root pointing at your runs, or run `govaudit demo`")
    return RunStore(conf.runs_root, conf.database_url)


def open_ledger(store: RunStore) -> SignoffLedger:
    return SignoffLedger(store)


def reviewer_list() -> ReviewerList:
    return ReviewerList(settings().reviewers)


def _index_error(err: SQLAlchemyError, store: RunStore) -> BadInputError:
    first = str(err).splitlines()[0]
    fix = "another process holds a write lock; retry in a moment" if "locked" in first else "check --runs-root / --db-url"
    return BadInputError(f"run index unavailable: {first}", where=store._safe_url(), fix=fix)


def runs_frame(store: RunStore, ledger: SignoffLedger) -> pd.DataFrame:
    """One row per run from the index (no record is read except for runs that have a sign-off)."""
    try:
        rows = store.list()
    except SQLAlchemyError as err:
        raise _index_error(err, store) from None
    check = ledger.verify()
    by_run: dict[str, list] = {}
    for entry in ledger.entries():  # one read for every run's history
        by_run.setdefault(entry.run_id, []).append(entry)
    frame = pd.DataFrame(rows, columns=["run_id", "name", "created_at", "status", "stages", "model", "data", "verdict",
                                        "failed_checks", "record_sha256"])
    frame["verdict"] = frame["verdict"].fillna("not run")
    frame["signoff"] = [_signoff_state(store, ledger, check, row.run_id, row.record_sha256, by_run[row.run_id])
                        if row.run_id in by_run else "none" for row in frame.itertuples()]
    frame["created"] = pd.to_datetime(frame["created_at"], utc=True, errors="coerce", format="ISO8601")
    return frame


def _signoff_state(store: RunStore, ledger: SignoffLedger, check: LedgerCheck, run_id: str, file_sha: str | None,
                   history: list) -> str:
    """The run's sign-off state from `SignoffLedger.approval` (what the gate counts); broken trail: 'trail broken'."""
    if not check.ok:
        return "trail broken"
    try:
        subject, owner = _subject_of_file(str(store.run_dir(run_id) / RECORD_FILE), file_sha or "")
    except BadInputError:
        return "none"
    return ledger.approval(run_id, subject, owner=owner, check=check, history=history).state


@st.cache_data(show_spinner=False, max_entries=2048)
def _subject_of_file(path: str, file_sha: str) -> tuple[str, str]:
    """Evidence hash and owner of a record file; cached by (path, file hash from the index)."""
    record = record_from_json(Path(path).read_bytes(), source=path)
    return subject_sha256(record), run_owner(record)


def subject_sha256(record: RunRecord) -> str:
    """The hash a sign-off binds to: the record without its policy section and updated_at (the gate's definition)."""
    from audit.record.signoff import signoff_subject_sha256

    return signoff_subject_sha256(record)


@dataclass(frozen=True)
class LoadedRun:
    record: RunRecord
    file_sha256: str
    subject_sha256: str
    raw: bytes


def load_run(store: RunStore, run_id: str) -> LoadedRun:
    """Read the record file (fast) and parse it once per content hash; corrupt/newer records raise BadInputError."""
    path = store.run_dir(run_id) / RECORD_FILE
    if not path.is_file():
        raise BadInputError(f"no run {run_id!r} in {store.root}", fix="pick a run on the Runs page")
    raw = path.read_bytes()
    return _parse(sha256_bytes(raw), raw, str(path))


@st.cache_resource(show_spinner=False, max_entries=64)
def _parse(file_sha: str, _raw: bytes, source: str) -> LoadedRun:
    record = record_from_json(_raw, source=source)
    return LoadedRun(record, file_sha, subject_sha256(record), _raw)


_SCORE_COLUMNS = ("prob_{c}", "proba_{c}", "p_{c}", "score_{c}", "prob", "score", "proba")


@st.cache_data(show_spinner=False, max_entries=256)
def score_histogram(path: str, stamp: tuple[int, int], feature: str, favorable: str, bins: int = 20) -> pd.DataFrame | None:
    """Per-group histogram of P(favorable) from the predictions Parquet; None if the columns are not there.

    `stamp` (size, mtime_ns) keys the cache so a rewritten artifact is re-read.
    """
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    column = next((c.format(c=favorable) for c in _SCORE_COLUMNS if c.format(c=favorable) in names), None)
    if column is None or feature not in names:
        return None
    table = pq.read_table(path, columns=[feature, column]).to_pandas()
    edges = np.linspace(0.0, 1.0, bins + 1)
    parts = []
    for group, scores in table.groupby(feature, observed=True, sort=True)[column]:
        counts, _ = np.histogram(scores.dropna().to_numpy(dtype=float), bins=edges)
        share = counts / max(int(counts.sum()), 1)
        parts.append(pd.DataFrame({"group": str(group), "bin_start": edges[:-1], "bin_end": edges[1:], "share": share}))
    return pd.concat(parts, ignore_index=True) if parts else None


def clear_record_caches() -> None:
    """Forget parsed records and evidence hashes (the next read is cold again)."""
    _parse.clear()
    _subject_of_file.clear()
