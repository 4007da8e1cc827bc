"""Run store: `runs/<run-id>/record.json` plus artifacts, indexed in SQLite (or PostgreSQL via a database URL).

Every write is atomic (temp file + rename); the index is a cache of the records and can be rebuilt from them.
Record writes are serialised per run (a file lock) and compare-and-swap: a record loaded before another command
saved the same run is refused (`RecordConflict`) instead of silently overwriting that command's sections. Beside the
record, `signoff-anchor.json` is the sign-off ledger's copy of its newest entry on the run (written by the ledger).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.core.console import info, warn
from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text, sha256_bytes, sha256_file

from . import DOWNSTREAM, Artifact, RunRecord, SignoffAnchor, new_run_id, record_from_json, utc_now, validate_run_id

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from audit.core.config import ProjectConfig

__all__ = ["RunStore", "RunSummary", "RECORD_FILE", "ANCHOR_FILE", "RecordConflict", "ArtifactCheck", "begin_run", "finish_stage",
           "scrubbed_table_path"]

RECORD_FILE = "record.json"
ANCHOR_FILE = "signoff-anchor.json"
RunSummary = dict[str, Any]
_LOCK_DIR = ".locks"


class RecordConflict(BadInputError):
    """The record changed on disk between this command's read and its write (another govaudit command saved it)."""


def _cas_digest(text: str | bytes) -> str:
    """What compare-and-swap compares: the SHA-256 of the record file's bytes."""
    return sha256_bytes(text.encode("utf-8") if isinstance(text, str) else text)


ArtifactCheck = dict[str, Any]


class RunStore:
    """Runs under `root`; the index lives at `database_url` (default `sqlite:///<root>/index.sqlite`)."""

    def __init__(self, root: str | Path = "runs", database_url: str | None = None) -> None:
        self.root = Path(root)
        self.database_url = database_url or f"sqlite:///{(self.root / 'index.sqlite').resolve()}"
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from sqlalchemy import create_engine
            from sqlalchemy.exc import SQLAlchemyError

            from ._index import metadata

            if self.database_url.startswith("sqlite:///"):
                self.root.mkdir(parents=True, exist_ok=True)
            try:
                self._engine = create_engine(self.database_url, future=True)
                metadata.create_all(self._engine)
            except SQLAlchemyError as err:
                raise BadInputError(f"run index unavailable: {type(err).__name__}: {str(err).splitlines()[0]}",
                                    where=self._safe_url(), fix="check --runs-root / database URL and permissions") from None
        return self._engine

    def _safe_url(self) -> str:
        return self.database_url.split("@")[-1] if "@" in self.database_url else self.database_url

    def run_dir(self, run_id: str) -> Path:
        return self.root / validate_run_id(run_id)

    def artifact(self, run_id: str, name: str) -> Path:
        """Path of an artifact inside the run directory; `name` may not escape it."""
        base = self.run_dir(run_id).resolve()
        path = (base / name).resolve()
        if base != path and base not in path.parents:
            raise BadInputError(f"artifact path {name!r} escapes the run directory")
        return path

    def create(self, record: RunRecord) -> RunRecord:
        run_dir = self.run_dir(record.run_id)
        if run_dir.exists():
            raise BadInputError(f"run {record.run_id} already exists", where=str(run_dir))
        run_dir.mkdir(parents=True)
        self.save(record)
        return record

    def save(self, record: RunRecord) -> str:
        """Write the record atomically and update the index; returns the record's SHA-256.

        Refused with `RecordConflict` if `record` was loaded (or last saved) from a file that another writer has
        replaced since.
        """
        path = self.run_dir(record.run_id) / RECORD_FILE
        with self._record_lock(record.run_id):
            expected = record._disk_digest
            if expected is not None and path.is_file() and _cas_digest(path.read_bytes()) != expected:
                raise RecordConflict(
                    f"run {record.run_id}: the record changed on disk after this command read it "
                    "(another govaudit command saved the same run); nothing was written", where=str(path),
                    fix="run one command per run at a time; rerun this command")
            record.updated_at = utc_now()
            return self._write(record)

    def _write(self, record: RunRecord) -> str:
        text = record.to_json()
        atomic_write_text(self.run_dir(record.run_id) / RECORD_FILE, text)
        record._disk_digest = _cas_digest(text)
        digest = sha256_bytes(text.encode("utf-8"))
        self._index(record, digest)
        return digest

    def set_signoff_anchor(self, run_id: str, anchor: SignoffAnchor) -> None:
        """Keep the ledger's newest entry on `run_id` beside its record (the ledger calls this after each decision)."""
        if self.exists(run_id):
            atomic_write_text(self.run_dir(run_id) / ANCHOR_FILE, anchor.model_dump_json())

    def signoff_anchor(self, run_id: str) -> SignoffAnchor | dict | None:
        """The run's anchor; None if absent, `{"seq": "unreadable"}` if it cannot be parsed."""
        path = self.run_dir(run_id) / ANCHOR_FILE
        if not path.is_file():
            return None
        try:
            return SignoffAnchor.model_validate_json(path.read_bytes())
        except (OSError, ValueError):
            return {"seq": "unreadable"}

    @contextlib.contextmanager
    def _record_lock(self, run_id: str) -> Iterator[None]:
        """Exclusive lock on one run's record (all processes on this machine / shared file system)."""
        locks = self.root / _LOCK_DIR
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{validate_run_id(run_id)}.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def record_artifacts(self, record: RunRecord, stage: str) -> None:
        """List every file of the run directory with its SHA-256; changed or new files are attributed to `stage`."""
        base = self.run_dir(record.run_id)
        known = {a.path: a for a in record.artifacts}
        listed = []
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(base).as_posix()
            if rel in (RECORD_FILE, ANCHOR_FILE) or any(part.startswith(".") for part in path.relative_to(base).parts):
                continue
            digest = sha256_file(path)
            old = known.get(rel)
            listed.append(old if old is not None and old.sha256 == digest else
                          Artifact(path=rel, sha256=digest, bytes=path.stat().st_size, stage=stage))
        record.artifacts = listed

    def verify_artifacts(self, run_id: str) -> list[ArtifactCheck]:
        """Each listed artifact with `status` ok / changed / missing, plus files on disk the record does not list."""
        record = self.load(run_id)
        base = self.run_dir(run_id)
        rows = []
        for art in record.artifacts:
            path = self.artifact(run_id, art.path)
            status = "missing" if not path.is_file() else "ok" if sha256_file(path) == art.sha256 else "changed"
            rows.append({"path": art.path, "stage": art.stage, "status": status, "sha256": art.sha256})
        listed = {a.path for a in record.artifacts}
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(base).as_posix()
            if rel not in (RECORD_FILE, ANCHOR_FILE) and rel not in listed and not any(
                    part.startswith(".") for part in path.relative_to(base).parts):
                rows.append({"path": rel, "stage": None, "status": "unlisted", "sha256": None})
        return rows

    def exists(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / RECORD_FILE).is_file()

    def load(self, run_id: str) -> RunRecord:
        path = self.run_dir(run_id) / RECORD_FILE
        if not path.is_file():
            raise BadInputError(f"no run {run_id!r} in {self.root}", fix="see `govaudit runs list`")
        raw = path.read_bytes()
        record = record_from_json(raw, source=str(path))
        record._disk_digest = _cas_digest(raw)
        return record

    def record_sha256(self, run_id: str) -> str:
        return sha256_bytes((self.run_dir(run_id) / RECORD_FILE).read_bytes())

    def _index(self, record: RunRecord, digest: str) -> None:
        policy = record.policy
        row = {
            "run_id": record.run_id,
            "name": record.name,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "status": record.status,
            "stages": ",".join(record.stages),
            "model": (record.train.base_model if record.train else str(record.config.get("model", {}).get("base", ""))),
            "data": ", ".join(Path(f.path).name for f in record.inputs),
            "verdict": policy.verdict if policy else None,
            "failed_checks": sum(c.status == "fail" for c in policy.checks) if policy else None,
            "record_sha256": digest,
            "summary": json.dumps({"notices": len(record.notices)}),
        }
        from ._index import runs_table

        with self.engine.begin() as conn:
            conn.execute(runs_table.delete().where(runs_table.c.run_id == record.run_id))
            conn.execute(runs_table.insert().values(**row))

    def list(self, *, status: str | None = None, verdict: str | None = None, limit: int | None = None) -> list[RunSummary]:
        from sqlalchemy import select

        from ._index import runs_table

        query = select(runs_table).order_by(runs_table.c.created_at.desc(), runs_table.c.run_id.desc())
        if status:
            query = query.where(runs_table.c.status == status)
        if verdict:
            query = query.where(runs_table.c.verdict == verdict)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def reindex(self, only: Iterable[str] | None = None,
                on_problem: Callable[[str, str], None] | None = None) -> int:
        """Rebuild the index from the records on disk (e.g. after copying runs between machines); returns how many
        runs were indexed. A record that cannot be read, or whose `run_id` is not its folder's name, is skipped and
        reported (`on_problem(folder, why)`, default: a warning); index rows whose record is gone are dropped.
        `only`: just these run ids (their rows are refreshed or dropped)."""
        report = on_problem or (lambda folder, why: warn(f"reindex: skipped {folder}: {why}"))
        names = list(only) if only is not None else list(self._run_ids_on_disk())
        count = 0
        for name in names:
            try:
                validate_run_id(name)
                record = self.load(name)
                if record.run_id != name:
                    raise BadInputError(f"the record's run_id {record.run_id!r} is not its folder's name")
                self._index(record, self.record_sha256(name))
                count += 1
            except (BadInputError, OSError) as err:
                if (self.root / name).is_dir() and (self.root / name / RECORD_FILE).exists():
                    report(name, err.message if isinstance(err, BadInputError) else str(err))
                self._drop_rows([name])
        listed = [row["run_id"] for row in self.list()] if only is None else list(names)
        self._drop_rows([run_id for run_id in listed if not self._record_exists(run_id)])
        return count

    def _record_exists(self, run_id: str) -> bool:
        try:
            return self.exists(run_id)
        except BadInputError:
            return False

    def _drop_rows(self, run_ids: list[str]) -> None:
        if run_ids:
            from ._index import runs_table

            with self.engine.begin() as conn:
                conn.execute(runs_table.delete().where(runs_table.c.run_id.in_(run_ids)))

    def _run_ids_on_disk(self) -> Iterator[str]:
        if self.root.is_dir():
            for child in sorted(self.root.iterdir()):
                if not child.name.startswith(".") and (child / RECORD_FILE).is_file():
                    yield child.name


def begin_run(store: RunStore, project: ProjectConfig, run_id: str | None, stage: str) -> RunRecord:
    """Continue `run_id` (the stage is added to it) or create a new run carrying the config."""
    if run_id:
        record = store.load(run_id)
        if stage in record.stages:
            info(f"run {run_id}: stage {stage!r} was already done; it will be replaced")
        stale = invalidate_downstream(record, stage)
        if stale:
            info(f"run {run_id}: dropped {', '.join(stale)} (computed from the {stage} output this rerun replaces)")
        record.status = "running"
        store.save(record)
        return record
    config_json = project.model_dump_json()
    record = RunRecord(
        run_id=new_run_id(), name=project.name, command=["govaudit", *sys.argv[1:]],
        config=json.loads(config_json), config_sha256=sha256_bytes(config_json.encode("utf-8")),
        model_card={"purpose": project.description, "owner": project.owner, "intended_use": project.intended_use},
    )
    return store.create(record)


def invalidate_downstream(record: RunRecord, stage: str) -> list[str]:
    """Drop the sections a rerun of `stage` makes stale, with a notice naming them; returns their names."""
    sections, stages = DOWNSTREAM.get(stage, ((), ()))
    stale = [name for name in sections if getattr(record, name) is not None]
    if stage not in record.stages and not stale:
        return []
    for name in stale:
        setattr(record, name, None)
    record.stages = [s for s in record.stages if s not in stages]
    if stale:
        record.notice(stage, "stale_sections_dropped",
                      f"{stage} was rerun: dropped {', '.join(stale)} (they described the previous {stage} output); "
                      "rerun those stages")
    return stale


def finish_stage(store: RunStore, record: RunRecord, stage: str) -> str:
    """Mark `stage` done (last in the stage list), list the run's artifacts with their SHA-256, the run completed,
    then save; returns the record hash."""
    if stage in record.stages:
        record.stages.remove(stage)
    record.stages.append(stage)
    record.status = "completed"
    store.record_artifacts(record, stage)
    return store.save(record)


def scrubbed_table_path(store: RunStore, record: RunRecord, role: str = "train") -> Path:
    """Path of the scrubbed `role` table of a run; bad input if the run has no completed, passed scrub of it."""
    section = record.scrub
    table = section.tables.get(role) if section else None
    if table is None or "scrub" not in record.stages:
        raise BadInputError(f"run {record.run_id} has no scrubbed {role!r} table", where="record.scrub",
                            fix="run `govaudit scrub --config ... --run RUN` first")
    if table.output_artifact is None or (table.residual is not None and not table.residual.passed):
        raise BadInputError(f"run {record.run_id}: the scrub of {role!r} failed its residual check",
                            where="record.scrub", fix="fix the scrub settings and scrub again")
    return store.artifact(record.run_id, table.output_artifact)
