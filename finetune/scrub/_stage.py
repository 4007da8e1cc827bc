"""The `scrub` stage: scrub train (and eval) into a temporary folder, then attach it to the run atomically.

Nothing lands in a run until every table is scrubbed; bad input leaves no run and no file. A failed residual check
records a failed run (with counts, never values) and deletes the scrubbed files.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from audit.core.config import DataSource, ProjectConfig
from audit.core.errors import BadInputError, ExitCode, GovauditError
from audit.core.io import atomic_path, replace_dir
from audit.record import Execution, RunRecord, ScrubSection, ScrubTable
from audit.record.store import RunStore, begin_run, finish_stage

from ._batch import Scrubber
from ._engine import engine_versions
from ._table import scrub_table

if TYPE_CHECKING:
    from ._ray import RayScrub

__all__ = ["SCRUBBED_DIR", "ResidualCheckFailed", "run_scrub_stage"]

SCRUBBED_DIR = "scrubbed"


class ResidualCheckFailed(GovauditError):
    """The re-scan of the scrubbed output still found PII above threshold: the stage fails with exit 1."""

    exit_code = ExitCode.POLICY_FAILED


def _sources(project: ProjectConfig, input_path: Path | None) -> dict[str, DataSource]:
    if input_path is not None:
        return {"train": DataSource(path=input_path)}
    sources = {role: src for role in ("train", "eval") if (src := getattr(project.data, role)) is not None}
    if not sources:
        raise BadInputError("no data to scrub", where="data.train", fix="set data.train in the config or pass --input")
    return sources


def _section(scrubber: Scrubber, tables: dict[str, ScrubTable]) -> ScrubSection:
    config, spec = scrubber.config, scrubber.spec
    engine = engine_versions(config.mode)
    if spec.disabled_pipes:
        engine["spacy_disabled_pipes"] = ",".join(spec.disabled_pipes)
        engine["lemmas"] = "lower-cased tokens (Presidio context words match as substrings)"
    engine.update(spec.detector)
    head = tables.get("train") or next(iter(tables.values()))
    return ScrubSection(
        **head.model_dump(), mode=config.mode, engine=engine, operator=config.operator,
        pseudonym_key=scrubber.key_source, entities=spec.entities, entities_not_covered=spec.not_covered,
        default_threshold=config.default_threshold, thresholds=dict(config.thresholds),
        allow_list_size=len(config.allow_list), custom_recognizers=spec.custom_recognizers, tables=tables,
    )


def _engine(scrubber: Scrubber, project: ProjectConfig, cache_root: Path) -> contextlib.AbstractContextManager:
    if project.engine.kind == "ray":
        from ._ray import RayScrub

        return RayScrub(scrubber, project.engine, cache_root)
    return contextlib.nullcontext()


def _scrub_one(scrubber: Scrubber, ray_scrub: RayScrub | None, source: DataSource, text_columns: list[str],
               out_path: Path, role: str, residual_check: bool) -> ScrubTable:
    if ray_scrub is None:
        return scrub_table(scrubber, source, text_columns, out_path, role=role, residual_check=residual_check)
    execution = Execution()
    cache = ray_scrub.cache_for(Path(source.path), role, text_columns)
    runner = ray_scrub.runner(cache, text_columns, where=str(source.path), residual_check=residual_check,
                              execution=execution)
    return scrub_table(scrubber, source, text_columns, out_path, role=role, residual_check=residual_check,
                       runner=runner, execution=execution)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp(root: Path) -> list[Path]:
    """Delete `.scrub-<pid>-*.tmp` folders whose scrub process is gone (killed with -9, machine crash); a live
    concurrent scrub's folder is kept. Returns what was removed."""
    removed = []
    for tmp in root.glob(".scrub-*.tmp"):
        pid = tmp.name.split("-")[1]
        if not (pid.isdigit() and _pid_alive(int(pid))):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def run_scrub_stage(project: ProjectConfig, store: RunStore, *, run_id: str | None = None,
                    input_path: Path | None = None, output_path: Path | None = None) -> RunRecord:
    """Scrub the configured tables, write `scrubbed/<role>.parquet` and `record.scrub`; return the saved record."""
    if run_id:
        store.load(run_id)  # fail fast on an unknown run
    if output_path is not None and Path(output_path).suffix.lower() not in (".parquet", ".pq"):
        raise BadInputError(f"--output must be a .parquet file, got {output_path}", where="--output")
    sources = _sources(project, input_path)
    text_columns = project.data.text_columns
    store.root.mkdir(parents=True, exist_ok=True)
    remove_stale_temp(store.root)
    tmp = store.root / f".scrub-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    tmp.mkdir()
    try:
        with Scrubber(project.scrub) as scrubber, _engine(scrubber, project, store.root) as ray_scrub:
            tables = {role: _scrub_one(scrubber, ray_scrub, source, text_columns, tmp / f"{role}.parquet", role,
                                       project.scrub.residual_check)
                      for role, source in sources.items()}
            section = _section(scrubber, tables)
            if ray_scrub is not None:
                ray_scrub.finished()
        failed = {role: t.residual.found for role, t in tables.items() if t.residual and not t.residual.passed}
        record = begin_run(store, project, run_id, "scrub")
        record.inputs = [fp for fp in record.inputs
                         if (fp.role, fp.path) not in {(t.input.role, t.input.path) for t in tables.values()}]
        record.inputs.extend(t.input for t in tables.values())
        if failed:
            for table in [section, *section.tables.values()]:
                table.output_artifact = None
            record.scrub = section
            record.status = "failed"
            record.notice("scrub", "residual_pii", f"residual check found PII after scrubbing: {failed}")
            store.save(record)
            raise ResidualCheckFailed(f"residual check found entities after scrubbing: {failed}; scrubbed output "
                                      f"deleted; run {record.run_id} marked failed", where="scrub",
                                      fix="mask whole entities (scrub.mask_chars unset) or use placeholder/pseudonym")
        target = store.artifact(record.run_id, SCRUBBED_DIR)
        for role, table in section.tables.items():
            table.output_artifact = f"{SCRUBBED_DIR}/{role}.parquet"
            table.output.path = str(target / f"{role}.parquet")
        head = section.tables.get("train") or next(iter(section.tables.values()))
        section.output_artifact, section.output = head.output_artifact, head.output
        replace_dir(tmp, target)
        if output_path is not None:
            with atomic_path(output_path) as out:
                shutil.copyfile(target / f"{head.role}.parquet", out)
        record.scrub = section
        finish_stage(store, record, "scrub")
        return record
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
