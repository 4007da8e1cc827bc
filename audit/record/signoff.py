"""Reviewer sign-off ledger: append-only, hash-chained decisions stored next to the run index.

Each entry binds a decision (approve, reject, request_changes), a mandatory comment, the reviewer, the time, the run
id and the SHA-256 of the run record the reviewer saw. Its hash covers those fields and the previous entry's hash, so
editing or deleting a row breaks the chain; the newest entry's hash is also written to `<runs-root>/signoff-head.json`,
so deleting entries at the end is caught as well. `verify()` reports every break; `approved()` is what the gate asks.

Limits: someone who can rewrite both the database and the head file can forge a consistent chain; keep the run store
writable only by the service account (or ship the head to an external log) where that matters.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, String, Table, Text, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text, sha256_bytes

from . import RunRecord, utc_now, validate_run_id
from .store import RunStore, _metadata

__all__ = ["DECISIONS", "GENESIS", "SignoffEntry", "LedgerCheck", "SignoffLedger", "entry_hash", "signoff_subject_sha256"]

DECISIONS = ("approve", "reject", "request_changes")
GENESIS = "0" * 64
HEAD_FILE = "signoff-head.json"
_HASHED = ("seq", "run_id", "record_sha256", "decision", "comment", "reviewer", "auth", "created_at", "prev_hash")

signoff_table = Table(
    "signoffs", _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("run_id", String(128), index=True, nullable=False),
    Column("record_sha256", String(64), nullable=False),
    Column("decision", String(20), nullable=False),
    Column("comment", Text, nullable=False),
    Column("reviewer", String(256), nullable=False),
    Column("auth", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
)


@dataclass(frozen=True)
class SignoffEntry:
    seq: int
    run_id: str
    record_sha256: str
    decision: str
    comment: str
    reviewer: str
    auth: str
    created_at: str
    prev_hash: str
    entry_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*_HASHED, "entry_hash")}


@dataclass
class LedgerCheck:
    """Result of `verify()`: `ok` is False as soon as one problem is found."""

    entries: int
    head: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the hashed fields in a fixed order, as compact UTF-8 JSON."""
    payload = json.dumps([fields[name] for name in _HASHED], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class SignoffLedger:
    """The sign-off ledger of a run store (same database as the run index, table `signoffs`)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._ready = False

    @property
    def _engine(self):
        engine = self.store.engine
        if not self._ready:
            try:
                signoff_table.create(engine, checkfirst=True)
            except SQLAlchemyError as err:
                raise _unavailable(err, self.store) from None
            self._ready = True
        return engine

    def sign(self, run_id: str, record_sha256: str, decision: str, comment: str, reviewer: str,
             auth: str = "password") -> SignoffEntry:
        """Append a decision; the caller has authenticated `reviewer`. Retries if another writer took the slot."""
        validate_run_id(run_id)
        if decision not in DECISIONS:
            raise BadInputError(f"unknown decision {decision!r}", fix=f"one of {', '.join(DECISIONS)}")
        if not comment or not comment.strip():
            raise BadInputError("a sign-off needs a comment", fix="say what you checked and why you decided so")
        if len(record_sha256) != 64 or any(c not in "0123456789abcdef" for c in record_sha256):
            raise BadInputError("record_sha256 must be a lowercase hex SHA-256")
        if not reviewer:
            raise BadInputError("a sign-off needs the reviewer's identity")
        with self._writer_lock():
            for _ in range(5):
                try:
                    entry = self._append(run_id, record_sha256, decision, comment.strip(), reviewer, auth)
                except IntegrityError:  # another machine took the same sequence number: read the new end, retry
                    continue
                atomic_write_text(self._head_path(), json.dumps({"seq": entry.seq, "entry_hash": entry.entry_hash}))
                return entry
        raise BadInputError("could not append to the sign-off ledger (concurrent writers)", fix="retry")

    def _append(self, run_id: str, record_sha256: str, decision: str, comment: str, reviewer: str,
                auth: str) -> SignoffEntry:
        try:
            with self._engine.begin() as conn:
                last = conn.execute(select(signoff_table.c.seq, signoff_table.c.entry_hash)
                                    .order_by(signoff_table.c.seq.desc()).limit(1)).first()
                fields = {"seq": (last.seq + 1) if last else 1, "run_id": run_id, "record_sha256": record_sha256,
                          "decision": decision, "comment": comment, "reviewer": reviewer, "auth": auth,
                          "created_at": utc_now(), "prev_hash": last.entry_hash if last else GENESIS}
                fields["entry_hash"] = entry_hash(fields)
                conn.execute(signoff_table.insert().values(**fields))
        except IntegrityError:
            raise
        except SQLAlchemyError as err:
            raise _unavailable(err, self.store) from None
        return SignoffEntry(**fields)

    def entries(self, run_id: str | None = None) -> list[SignoffEntry]:
        query = select(signoff_table).order_by(signoff_table.c.seq)
        if run_id is not None:
            query = query.where(signoff_table.c.run_id == run_id)
        try:
            with self._engine.connect() as conn:
                return [SignoffEntry(**row._mapping) for row in conn.execute(query)]
        except SQLAlchemyError as err:
            raise _unavailable(err, self.store) from None

    def history(self, run_id: str) -> list[SignoffEntry]:
        """Decisions on one run, oldest first."""
        return self.entries(validate_run_id(run_id))

    def latest(self) -> dict[str, SignoffEntry]:
        """The newest decision of every run (one query; for the runs list)."""
        newest = select(signoff_table.c.run_id, func.max(signoff_table.c.seq).label("seq")).group_by(
            signoff_table.c.run_id).subquery()
        query = select(signoff_table).join(newest, signoff_table.c.seq == newest.c.seq)
        try:
            with self._engine.connect() as conn:
                return {row.run_id: SignoffEntry(**row._mapping) for row in conn.execute(query)}
        except SQLAlchemyError as err:
            raise _unavailable(err, self.store) from None

    def approved(self, run_id: str, record_sha256: str) -> bool:
        """True if the chain is intact and the newest decision on exactly this record hash is an approval."""
        if not self.verify().ok:
            return False
        bound = [e for e in self.history(run_id) if e.record_sha256 == record_sha256]
        return bool(bound) and bound[-1].decision == "approve"

    def verify(self) -> LedgerCheck:
        """Recompute every hash and link; compare the end of the chain with the head file."""
        rows = self.entries()
        check = LedgerCheck(entries=len(rows), head=rows[-1].entry_hash if rows else GENESIS)
        prev_hash, prev_seq = GENESIS, 0
        for entry in rows:
            if entry.seq != prev_seq + 1:
                check.problems.append(f"entries {prev_seq + 1}..{entry.seq - 1} are missing (deleted)")
            if entry_hash(entry.as_dict()) != entry.entry_hash:
                check.problems.append(f"entry {entry.seq} was edited: its content no longer matches its hash")
            if entry.prev_hash != prev_hash:
                check.problems.append(f"entry {entry.seq} does not link to the entry before it (edited or deleted)")
            prev_hash, prev_seq = entry.entry_hash, entry.seq
        head = self._read_head()
        if head is None:
            if rows:
                check.warnings.append(f"no {HEAD_FILE} in the run store: deletions at the end cannot be detected")
        elif head != {"seq": prev_seq, "entry_hash": prev_hash}:
            check.problems.append(f"the chain ends at entry {prev_seq} but {HEAD_FILE} records entry {head.get('seq')} "
                                  "(entries deleted or appended outside govaudit)")
        return check

    def _head_path(self) -> Path:
        return self.store.root / HEAD_FILE

    def _read_head(self) -> dict[str, Any] | None:
        path = self._head_path()
        if not path.is_file():
            return None
        try:
            head = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"seq": "unreadable"}
        return head if isinstance(head, dict) else {"seq": "unreadable"}

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """Serialise appends on this machine so that the head file always names the newest entry."""
        self.store.root.mkdir(parents=True, exist_ok=True)
        with open(self.store.root / ".signoff.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _unavailable(err: SQLAlchemyError, store: RunStore) -> BadInputError:
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    hint = "another process holds a lock; retry" if "locked" in first else "check --runs-root / --db-url"
    return BadInputError(f"sign-off ledger unavailable: {first}", where=store._safe_url(), fix=hint)


_OPTIONAL_SECTIONS = ("entities", "entity_parity", "pii_evaluation")


def signoff_subject_sha256(record: RunRecord) -> str:
    """SHA-256 of the record without its `policy` section and `updated_at`: the evidence a reviewer approves.

    The gate writes `record.policy` (so the file hash changes each time it runs); binding approvals to this hash instead
    keeps a sign-off valid across gate runs while any change to the evidence (a new stage, new numbers) voids it.
    """
    data = json.loads(record.to_json())
    data.pop("policy", None)
    data.pop("updated_at", None)
    for key in _OPTIONAL_SECTIONS:  # sections added later: absent ones must not change older records' hashes
        if data.get(key, 0) is None:
            data.pop(key)
    return sha256_bytes(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8"))
