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
           "subject_sha256", "score_histogram", "SIGNOFF_STATES", "clear_record_caches", "feature_column", "predictions",
           "group_labels", "confusion_by_group", "reliability", "threshold_sweep", "SMALL_GROUP"]

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


_SCORE_COLUMNS = ("proba_{c}", "prob_{c}", "p_{c}", "score_{c}", "prob", "score", "proba")
SMALL_GROUP = 30


def feature_column(names: list[str], feature: str) -> str | None:
    """The predictions column of a sensitive feature: the audit writes `sf_<feature>`; older files used `<feature>`."""
    return next((c for c in (f"sf_{feature}", feature) if c in names), None)


def _score_column(names: list[str], label: str) -> str | None:
    return next((c.format(c=label) for c in _SCORE_COLUMNS if c.format(c=label) in names), None)


@st.cache_data(show_spinner=False, max_entries=16)
def predictions(path: str, stamp: tuple[int, int]) -> pd.DataFrame:
    """The predictions Parquet without texts (row_id, label, prediction, proba_*, sf_*); cached by (path, stamp)."""
    import pyarrow.parquet as pq

    names = [n for n in pq.read_schema(path).names if n != "text"]
    return pq.read_table(path, columns=names).to_pandas()


def group_labels(frame: pd.DataFrame, features: list[str]) -> pd.Series | None:
    """Each row's group for a grouping (features joined by ' × ', as the fairness stage names intersections);
    no features: every row in one group 'all rows'."""
    if not features:
        return pd.Series("all rows", index=frame.index)
    columns = [feature_column(list(frame.columns), f) for f in features]
    if any(c is None for c in columns):
        return None
    out = frame[columns[0]].astype(str)
    for column in columns[1:]:
        out = out + " × " + frame[column].astype(str)
    return out


@st.cache_data(show_spinner=False, max_entries=256)
def score_histogram(path: str, stamp: tuple[int, int], feature: str, favorable: str, bins: int = 20) -> pd.DataFrame | None:
    """Per-group histogram of P(favorable) from the predictions Parquet; None if the columns are not there.

    `stamp` (size, mtime_ns) keys the cache so a rewritten artifact is re-read.
    """
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    column, group_column = _score_column(names, favorable), feature_column(names, feature)
    if column is None or group_column is None:
        return None
    table = pq.read_table(path, columns=[group_column, column]).to_pandas()
    edges = np.linspace(0.0, 1.0, bins + 1)
    parts = []
    for group, scores in table.groupby(group_column, observed=True, sort=True)[column]:
        counts, _ = np.histogram(scores.dropna().to_numpy(dtype=float), bins=edges)
        share = counts / max(int(counts.sum()), 1)
        parts.append(pd.DataFrame({"group": str(group), "bin_start": edges[:-1], "bin_end": edges[1:], "share": share}))
    return pd.concat(parts, ignore_index=True) if parts else None


@st.cache_data(show_spinner=False, max_entries=64)
def confusion_by_group(path: str, stamp: tuple[int, int], features: tuple[str, ...]) -> pd.DataFrame | None:
    """Counts of (group, true label, predicted label), with each cell's share of its group's true-label row."""
    frame = predictions(path, stamp)
    groups = group_labels(frame, list(features))
    if groups is None or not {"label", "prediction"} <= set(frame.columns):
        return None
    counts = (pd.DataFrame({"group": groups, "true": frame["label"].astype(str),
                            "predicted": frame["prediction"].astype(str)})
              .groupby(["group", "true", "predicted"], observed=True).size().rename("count").reset_index())
    counts["share of true"] = counts["count"] / counts.groupby(["group", "true"])["count"].transform("sum")
    return counts


@st.cache_data(show_spinner=False, max_entries=16)
def reliability(path: str, stamp: tuple[int, int], labels: tuple[str, ...], bins: int = 15) -> pd.DataFrame | None:
    """Reliability diagram data: per equal-width bin of the top probability, mean confidence, accuracy and rows
    (the bins of the record's ECE: ECE = sum over bins of rows/n * |accuracy - confidence|)."""
    frame = predictions(path, stamp)
    columns = [_score_column(list(frame.columns), label) for label in labels]
    if any(c is None for c in columns) or "label" not in frame:
        return None
    proba = frame[columns].to_numpy(dtype=float)
    top = proba.max(axis=1)
    correct = np.asarray(labels, dtype=object)[proba.argmax(axis=1)] == frame["label"].astype(str).to_numpy()
    index = np.minimum((top * bins).astype(int), bins - 1)
    count = np.bincount(index, minlength=bins)
    conf = np.bincount(index, weights=top, minlength=bins)
    hits = np.bincount(index, weights=correct.astype(float), minlength=bins)
    keep = count > 0
    return pd.DataFrame({"bin_start": np.arange(bins)[keep] / bins, "bin_end": (np.arange(bins)[keep] + 1) / bins,
                         "confidence": conf[keep] / count[keep], "accuracy": hits[keep] / count[keep],
                         "rows": count[keep]})


@st.cache_data(show_spinner=False, max_entries=64)
def threshold_sweep(path: str, stamp: tuple[int, int], features: tuple[str, ...], favorable: str,
                    thresholds: tuple[float, ...], min_size: int = SMALL_GROUP,
                    excluded: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """Selection rate (share with P(favorable) >= t) and impact ratio (rate / highest rate among the other groups)
    per group at each threshold t. Groups below `min_size` rows or named in `excluded` (the record's small and
    unknown groups) are kept, flagged `small`, and never the reference."""
    frame = predictions(path, stamp)
    groups = group_labels(frame, list(features))
    column = _score_column(list(frame.columns), favorable)
    if groups is None or column is None:
        return None
    codes, names = pd.factorize(groups, sort=True)
    scores = frame[column].to_numpy(dtype=float)
    sizes = np.bincount(codes, minlength=len(names))
    cuts = np.asarray(thresholds, dtype=float)
    rows = []
    for g in range(len(names)):
        mine = np.sort(scores[codes == g])
        rows.append((len(mine) - np.searchsorted(mine, cuts, side="left")) / max(len(mine), 1))
    rates = np.vstack(rows) if rows else np.zeros((0, len(cuts)))
    large = (sizes >= min_size) & ~np.isin(names.astype(str), list(excluded))
    best = rates[large].max(axis=0) if large.any() else rates.max(axis=0, initial=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(best > 0, rates / best, np.nan)
    return pd.DataFrame({"threshold": np.tile(cuts, len(names)), "group": np.repeat(names.astype(str), len(cuts)),
                         "n": np.repeat(sizes, len(cuts)), "small": np.repeat(~large, len(cuts)),
                         "selection_rate": rates.ravel(), "impact_ratio": ratios.ravel()})


def clear_record_caches() -> None:
    """Forget parsed records and evidence hashes (the next read is cold again)."""
    _parse.clear()
    _subject_of_file.clear()
