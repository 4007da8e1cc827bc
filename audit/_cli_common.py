"""Shared CLI plumbing: options, opening the project and store, starting or continuing a run, --json output."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ._console import info
from ._errors import BadInputError
from ._io import sha256_bytes
from .config import ProjectConfig, load_config
from .schema import RunRecord, new_run_id
from .store import RunStore

__all__ = ["ConfigOpt", "SetOpt", "RunOpt", "RunsRootOpt", "DbUrlOpt", "open_project", "open_store", "begin_run",
           "output", "json_mode", "finish_stage", "require"]

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Project config (govaudit.yaml).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a config key: --set train.epochs=1 (repeatable).")]
RunOpt = Annotated[str | None, typer.Option("--run", help="Add this stage to an existing run instead of starting a new one.")]
RunsRootOpt = Annotated[Path | None, typer.Option("--runs-root", help="Run store folder (default: runs.root in the config, else ./runs).")]
DbUrlOpt = Annotated[str | None, typer.Option("--db-url", help="SQLAlchemy URL of the run index (e.g. postgresql://...).")]

_state: dict[str, bool] = {"json": False}


def json_mode(enabled: bool | None = None) -> bool:
    if enabled is not None:
        _state["json"] = enabled
    return _state["json"]


def open_project(config: Path, overrides: list[str] | None, runs_root: Path | None = None,
                 db_url: str | None = None) -> tuple[ProjectConfig, RunStore]:
    project = load_config(config, overrides)
    root = runs_root or project.runs.root
    return project, RunStore(root, db_url or project.runs.database_url)


def open_store(runs_root: Path | None, db_url: str | None) -> RunStore:
    return RunStore(runs_root or Path("runs"), db_url)


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


def output(payload: dict[str, Any], human: str) -> None:
    """Print `payload` as JSON under --json, else the human line(s), to stdout."""
    if json_mode():
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        typer.echo(human)


def finish_stage(store: RunStore, record: RunRecord, stage: str) -> str:
    if stage in record.stages:
        record.stages.remove(stage)
    record.stages.append(stage)
    record.status = "completed"
    return store.save(record)


def require(condition: bool, message: str, **kwargs: Any) -> None:
    if not condition:
        raise BadInputError(message, **kwargs)
