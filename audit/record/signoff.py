"""Reviewer sign-off ledger: append-only, hash-chained decisions stored next to the run index.

Each entry binds a decision (approve, reject, request_changes), a mandatory comment, the reviewer, the time, the run
id, the SHA-256 of the evidence the reviewer saw and, for an approval of a run with failed blocking checks, the
reviewer's risk acceptance of each such check. Its hash covers those fields and the previous entry's hash, so
editing or deleting a row breaks the chain. The newest entry (the head) is kept in three more places, all written
with every decision: the `signoff_head` table (same transaction), `<runs-root>/signoff-head.json`, and
`signoff-anchor.json` in the directory of the run the decision is about. `verify()` reports every disagreement, a
missing head included, as BROKEN; `verify(expect_head=H)` also checks an external anchor (a head printed into CI logs
by the gate).

Limits: someone who can rewrite the database, the head file and the run records together can forge a consistent
chain; only the external anchor catches that (see docs/dashboard.md, "Threat model").
"""
from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, String, Table, Text, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text, sha256_bytes

from . import RunRecord, SignoffAnchor, utc_now, validate_run_id
from ._index import metadata
from .store import ANCHOR_FILE, RunStore

__all__ = [
    "DECISIONS",
    "GENESIS",
    "Approval",
    "LedgerCheck",
    "SignoffEntry",
    "SignoffLedger",
    "blocking_failures",
    "entry_hash",
    "signoff_subject_sha256",
]

DECISIONS = ("approve", "reject", "request_changes")
GENESIS = "0" * 64
HEAD_FILE = "signoff-head.json"
_HASHED = ("seq", "run_id", "record_sha256", "decision", "comment", "reviewer", "auth", "created_at", "prev_hash")
_EXTRA = ("acknowledged",)  # hashed only when set, so entries written before it existed keep their hash

signoff_table = Table(
    "signoffs", metadata,
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
    Column("acknowledged", Text, nullable=False, default="", server_default=""),
)
head_table = Table(
    "signoff_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
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
    acknowledged: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*_HASHED, "entry_hash", *_EXTRA)}

    @property
    def acknowledgements(self) -> dict[str, str]:
        """Risk acceptances of this approval: failed blocking check id -> the reviewer's reason."""
        return json.loads(self.acknowledged) if self.acknowledged else {}


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


@dataclass(frozen=True)
class Approval:
    """Whether a run's evidence counts as approved, and why: the one answer gate, dashboard and CLI all show."""

    ok: bool
    reason: str
    approvers: tuple[str, ...] = ()
    broken: bool = False
    head: str = GENESIS
    state: str = "none"  # approved, rejected, changes requested, approved (older evidence), trail broken, none


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the hashed fields in a fixed order (plus the optional ones that are set), as compact UTF-8 JSON."""
    values = [fields[name] for name in _HASHED] + [fields[name] for name in _EXTRA if fields.get(name)]
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def blocking_failures(record: RunRecord) -> list[str]:
    """Ids of the checks that block this run in its latest policy evaluation (an approval must accept each); the
    sign-off check itself is not one: the approval is what it waits for."""
    checks = record.policy.checks if record.policy else []
    return [c.id for c in checks if c.effect == "block" and c.id.split(":", 1)[0] != "reviewer_signoff"]


def run_owner(record: RunRecord) -> str:
    return (record.model_card.get("owner") or "").strip()


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
                head_table.create(engine, checkfirst=True)
                self._ready = True
                self._upgrade(engine)
            except SQLAlchemyError as err:
                self._ready = False
                raise _unavailable(err, self.store) from None
        return engine

    def _upgrade(self, engine) -> None:
        """A ledger written before the head table and the anchors (no `acknowledged` column): add the column and, if
        the head file names the end of an intact chain (what that version trusted), adopt it as the head row and
        write each run's anchor. Anything else stays as it is, and `verify()` then reports it BROKEN."""
        if "acknowledged" in {c["name"] for c in inspect(engine).get_columns("signoffs")}:
            return
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE signoffs ADD COLUMN acknowledged TEXT NOT NULL DEFAULT ''"))
        rows = self.entries()
        if not rows or self._read_head() != {"seq": rows[-1].seq, "entry_hash": rows[-1].entry_hash}:
            return
        with engine.begin() as conn:
            conn.execute(head_table.delete())
            conn.execute(head_table.insert().values(id=1, seq=rows[-1].seq, entry_hash=rows[-1].entry_hash))
        for run_id, entry in {e.run_id: e for e in rows}.items():
            self.store.set_signoff_anchor(run_id, SignoffAnchor(seq=entry.seq, entry_hash=entry.entry_hash))

    def decide(self, record: RunRecord, decision: str, comment: str, reviewer: str, auth: str = "password", *,
               acknowledged: dict[str, str] | None = None, reviewer_email: str | None = None) -> SignoffEntry:
        """A reviewer's decision on the run's current evidence, under the workflow rules (dashboard and
        `govaudit signoff` both come here): the run's owner (`model_card.owner`, matched against the reviewer's name
        and e-mail) cannot approve it; approving a run whose latest gate has failed blocking checks needs a reason
        for each in `acknowledged` (check id -> reason), recorded in the entry as a risk acceptance."""
        acknowledged = {k: v.strip() for k, v in (acknowledged or {}).items() if v and v.strip()}
        if decision == "approve":
            owner = run_owner(record).lower()
            if owner and owner in {reviewer.lower(), (reviewer_email or "").lower()}:
                raise BadInputError(f"refused: {reviewer} owns run {record.run_id} and cannot approve it "
                                    "(separation of duties)", fix="ask another reviewer")
            failed = blocking_failures(record)
            missing = [c for c in failed if c not in acknowledged]
            if missing:
                raise BadInputError(f"approving run {record.run_id} despite failed blocking checks needs a reason for "
                                    f"each (risk acceptance); missing: {', '.join(missing)}",
                                    fix="acknowledge each failed check with a reason (--ack CHECK=REASON)")
            acknowledged = {k: acknowledged[k] for k in failed}
        return self.sign(record.run_id, signoff_subject_sha256(record), decision, comment, reviewer, auth,
                         acknowledged=acknowledged if decision == "approve" else None)

    def sign(self, run_id: str, record_sha256: str, decision: str, comment: str, reviewer: str,
             auth: str = "password", acknowledged: dict[str, str] | None = None) -> SignoffEntry:
        """Append a decision; the caller has authenticated `reviewer` and applied the workflow rules (`decide`).
        Refused on a broken trail. Retries if another writer took the slot."""
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
            check = self.verify()
            if not check.ok:
                raise BadInputError("refused: the sign-off trail is BROKEN: " + "; ".join(check.problems),
                                    fix="restore the ledger from a backup; see `govaudit dashboard verify-ledger`")
            ack = json.dumps(acknowledged, sort_keys=True, ensure_ascii=False) if acknowledged else ""
            for _ in range(5):
                try:
                    entry = self._append(run_id, record_sha256, decision, comment.strip(), reviewer, auth, ack)
                except IntegrityError:  # another machine took the same sequence number: read the new end, retry
                    continue
                atomic_write_text(self._head_path(), json.dumps({"seq": entry.seq, "entry_hash": entry.entry_hash}))
                self.store.set_signoff_anchor(run_id, SignoffAnchor(seq=entry.seq, entry_hash=entry.entry_hash))
                return entry
        raise BadInputError("could not append to the sign-off ledger (concurrent writers)", fix="retry")

    def _append(self, run_id: str, record_sha256: str, decision: str, comment: str, reviewer: str,
                auth: str, acknowledged: str = "") -> SignoffEntry:
        try:
            with self._engine.begin() as conn:
                last = conn.execute(select(signoff_table.c.seq, signoff_table.c.entry_hash)
                                    .order_by(signoff_table.c.seq.desc()).limit(1)).first()
                fields = {"seq": (last.seq + 1) if last else 1, "run_id": run_id, "record_sha256": record_sha256,
                          "decision": decision, "comment": comment, "reviewer": reviewer, "auth": auth,
                          "created_at": utc_now(), "prev_hash": last.entry_hash if last else GENESIS,
                          "acknowledged": acknowledged}
                fields["entry_hash"] = entry_hash(fields)
                conn.execute(signoff_table.insert().values(**fields))
                conn.execute(head_table.delete())
                conn.execute(head_table.insert().values(id=1, seq=fields["seq"], entry_hash=fields["entry_hash"]))
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
        return self.approval(run_id, record_sha256).ok

    def approval(self, run_id: str, subject_sha256: str, *, owner: str = "", min_approvals: int = 1,
                 max_age_days: int | None = None, now: datetime | None = None,
                 check: LedgerCheck | None = None, history: list[SignoffEntry] | None = None) -> Approval:
        """Does this evidence count as approved? On an intact chain, the decisions bound to exactly this hash since
        the last reject / request-changes: approvals by distinct reviewers other than the owner, younger than
        `max_age_days`, at least `min_approvals` of them. A broken chain approves nothing. `check` and `history`
        (this run's entries, oldest first) may be passed in when the caller already read them."""
        check = check or self.verify()
        if not check.ok:
            return Approval(False, "sign-off trail BROKEN, no approval counts: " + "; ".join(check.problems),
                            broken=True, head=check.head, state="trail broken")
        history = self.history(run_id) if history is None else history
        bound = [e for e in history if e.record_sha256 == subject_sha256]
        if not bound:
            older = any(e.decision == "approve" for e in history)
            return Approval(False, "no reviewer approval bound to this evidence" +
                            (" (approvals exist for older evidence)" if older else ""), head=check.head,
                            state="approved (older evidence)" if older else "none")
        last_no = max((i for i, e in enumerate(bound) if e.decision != "approve"), default=-1)
        if last_no == len(bound) - 1:
            last = bound[-1]
            state = "rejected" if last.decision == "reject" else "changes requested"
            return Approval(False, f"latest decision on this evidence: {last.decision} by {last.reviewer}",
                            head=check.head, state=state)
        now = now or datetime.now(UTC)
        approvers: dict[str, SignoffEntry] = {}
        skipped: list[str] = []
        for entry in bound[last_no + 1:]:
            if owner and entry.reviewer.lower() == owner.lower():
                skipped.append(f"{entry.reviewer} owns the run")
            elif max_age_days is not None and now - datetime.fromisoformat(entry.created_at) > timedelta(days=max_age_days):
                skipped.append(f"approval by {entry.reviewer} expired ({max_age_days} days)")
            else:
                approvers[entry.reviewer] = entry
        names = tuple(approvers)
        ok = len(names) >= min_approvals
        reason = (f"approved by {', '.join(names)}" if names else "no valid approval") + \
            (f" ({len(names)} of {min_approvals} required)" if min_approvals > 1 else "") + \
            (f"; not counted: {'; '.join(skipped)}" if skipped else "")
        return Approval(ok, reason, names, head=check.head, state="approved" if ok else "none")

    def verify(self, expect_head: str | None = None) -> LedgerCheck:
        """Recompute every hash and link; compare the end of the chain with the head table, the head file and the
        anchors beside the run records; with `expect_head`, also require that external anchor to be in the chain."""
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
        end = {"seq": prev_seq, "entry_hash": prev_hash}
        for where, head in ((HEAD_FILE, self._read_head()), ("the signoff_head table", self._read_head_row())):
            if head is None:
                if rows:
                    check.problems.append(f"{where} is missing although the ledger has {len(rows)} entries "
                                          "(deleted outside govaudit)")
            elif head != end:
                check.problems.append(f"the chain ends at entry {prev_seq} but {where} records entry "
                                      f"{head.get('seq')} (entries deleted or appended outside govaudit)")
        check.problems += self._anchor_problems(rows)
        if expect_head and expect_head not in {e.entry_hash for e in rows} | ({GENESIS} if not rows else set()):
            check.problems.append(f"the expected head {expect_head[:12]}… (external anchor) is not in the chain "
                                  "(entries deleted or the chain rewritten)")
        return check

    def _anchor_problems(self, rows: list[SignoffEntry]) -> list[str]:
        """Each run's anchor must name the ledger's newest entry on that run, and vice versa."""
        newest = {e.run_id: e for e in rows}
        anchors: dict[str, Any] = {}
        if self.store.root.is_dir():
            for path in sorted(self.store.root.glob(f"*/{ANCHOR_FILE}")):
                anchor = self.store.signoff_anchor(path.parent.name)
                if anchor is not None:
                    anchors[path.parent.name] = anchor.model_dump() if isinstance(anchor, SignoffAnchor) else anchor
        problems = []
        for run_id in sorted(set(newest) | set(anchors)):
            entry, anchor = newest.get(run_id), anchors.get(run_id)
            if entry is None:
                problems.append(f"run {run_id}'s {ANCHOR_FILE} names ledger entry {anchor.get('seq')} as its newest "
                                "decision, but the ledger has no decision on it (entries deleted)")
            elif anchor is None:
                if self.store.exists(run_id):
                    problems.append(f"run {run_id} has no {ANCHOR_FILE} although the ledger has decisions on it "
                                    f"(newest: entry {entry.seq}); deleted outside govaudit")
            elif anchor != {"seq": entry.seq, "entry_hash": entry.entry_hash}:
                problems.append(f"run {run_id}'s {ANCHOR_FILE} names entry {anchor.get('seq')} as its newest decision "
                                f"but the ledger's newest on it is entry {entry.seq} (entries deleted or anchor rolled back)")
        return problems

    def _read_head_row(self) -> dict[str, Any] | None:
        try:
            with self._engine.connect() as conn:
                row = conn.execute(select(head_table.c.seq, head_table.c.entry_hash)).first()
        except SQLAlchemyError as err:
            raise _unavailable(err, self.store) from None
        return {"seq": row.seq, "entry_hash": row.entry_hash} if row else None

    def export(self, fmt: str = "json") -> str:
        """The whole ledger for auditors: JSON (entries + verification) or CSV (one row per entry)."""
        rows = [e.as_dict() for e in self.entries()]
        if fmt == "json":
            check = self.verify()
            return json.dumps({"intact": check.ok, "head": check.head, "problems": check.problems,
                               "entries": rows}, indent=2, ensure_ascii=False) + "\n"
        if fmt != "csv":
            raise BadInputError(f"unknown export format {fmt!r}", fix="csv or json")
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[*_HASHED, "entry_hash", *_EXTRA])
        writer.writeheader()
        for row in rows:  # neutralise spreadsheet formulas in free text
            writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v) for k, v in row.items()})
        return out.getvalue()

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


_OPTIONAL_FIELDS = (("scrub", "detector"),)  # fields added later inside a section, dropped when absent (None)
_OPTIONAL_SECTIONS = ("entities", "entity_parity", "span_flips", "span_attribution", "pii_evaluation", "monitoring")


def signoff_subject_sha256(record: RunRecord) -> str:
    """SHA-256 of the record without its `policy` section and `updated_at`: the evidence a reviewer approves.

    The gate writes `record.policy` (so the file hash changes each time it runs); binding approvals to this hash instead
    keeps a sign-off valid across gate runs while any change to the evidence (a new stage, new numbers) voids it.
    """
    data = json.loads(record.to_json())
    for key in ("policy", "updated_at"):
        data.pop(key, None)
    if not data.get("artifacts"):  # records written before artifacts were listed keep their hash
        data.pop("artifacts", None)
    for key in _OPTIONAL_SECTIONS:  # sections added later: absent ones must not change older records' hashes
        if data.get(key, 0) is None:
            data.pop(key)
    for section, key in _OPTIONAL_FIELDS:
        if isinstance(data.get(section), dict) and data[section].get(key, 0) is None:
            data[section].pop(key)
    return sha256_bytes(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8"))
