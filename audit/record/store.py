"""Run store: `runs/<run-id>/record.json` plus artifacts, indexed in SQLite (or PostgreSQL via a database URL).

Every write is atomic (temp file + rename); the index is a cache of the records and can be rebuilt from them.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from audit.core.console import info, warn
from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text, sha256_bytes

from . import RunRecord, new_run_id, record_from_json, utc_now, validate_run_id

if TYPE_CHECKING:
    from audit.core.config import ProjectConfig

__all__ = ["RunStore", "RunSummary", "RECORD_FILE", "begin_run", "finish_stage", "scrubbed_table_path"]

RECORD_FILE = "record.json"
_metadata = MetaData()
runs_table = Table(
    "runs", _metadata,
    Column("run_id", String(128), primary_key=True),
    Column("name", String(256)),
    Column("created_at", String(40)),
    Column("updated_at", String(40)),
    Column("status", String(20)),
    Column("stages", String(200)),
    Column("model", String(512)),
    Column("data", String(512)),
    Column("verdict", String(20)),
    Column("failed_checks", Integer),
    Column("record_sha256", String(64)),
    Column("summary", Text),
)
RunSummary = dict[str, Any]


class RunStore:
    """Runs under `root`; the index lives at `database_url` (default `sqlite:///<root>/index.sqlite`)."""

    def __init__(self, root: str | Path = "runs", database_url: str | None = None) -> None:
        self.root = Path(root)
        self.database_url = database_url or f"sqlite:///{(self.root / 'index.sqlite').resolve()}"
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            if self.database_url.startswith("sqlite:///"):
                self.root.mkdir(parents=True, exist_ok=True)
            try:
                self._engine = create_engine(self.database_url, future=True)
                _metadata.create_all(self._engine)
            except (OperationalError, SQLAlchemyError) as err:
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
        """Write the record atomically and update the index; returns the record's SHA-256."""
        record.updated_at = utc_now()
        text = record.to_json()
        atomic_write_text(self.run_dir(record.run_id) / RECORD_FILE, text)
        digest = sha256_bytes(text.encode("utf-8"))
        self._index(record, digest)
        return digest

    def exists(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / RECORD_FILE).is_file()

    def load(self, run_id: str) -> RunRecord:
        path = self.run_dir(run_id) / RECORD_FILE
        if not path.is_file():
            raise BadInputError(f"no run {run_id!r} in {self.root}", fix="see `govaudit runs list`")
        return record_from_json(path.read_bytes(), source=str(path))

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
        with self.engine.begin() as conn:
            conn.execute(runs_table.delete().where(runs_table.c.run_id == record.run_id))
            conn.execute(runs_table.insert().values(**row))

    def list(self, *, status: str | None = None, verdict: str | None = None, limit: int | None = None) -> list[RunSummary]:
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
        record.status = "running"
        return record
    config_json = project.model_dump_json()
    record = RunRecord(
        run_id=new_run_id(), name=project.name, command=["govaudit", *sys.argv[1:]],
        config=json.loads(config_json), config_sha256=sha256_bytes(config_json.encode("utf-8")),
        model_card={"purpose": project.description, "owner": project.owner, "intended_use": project.intended_use},
    )
    return store.create(record)


def finish_stage(store: RunStore, record: RunRecord, stage: str) -> str:
    """Mark `stage` done (last in the stage list) and the run completed, then save; returns the record hash."""
    if stage in record.stages:
        record.stages.remove(stage)
    record.stages.append(stage)
    record.status = "completed"
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
