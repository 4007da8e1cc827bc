"""Shared CLI plumbing: options, opening the project and store, --json output."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from audit.core.config import ProjectConfig, load_config
from audit.core.errors import BadInputError
from audit.record.store import RunStore

__all__ = ["ConfigOpt", "SetOpt", "RunOpt", "RunsRootOpt", "DbUrlOpt", "EngineOpt", "RayAddressOpt", "engine_overrides", "open_project", "open_store", "output",
           "json_mode", "require"]

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Project config (govaudit.yaml).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a config key: --set train.epochs=1 (repeatable).")]
RunOpt = Annotated[str | None, typer.Option("--run", help="Add this stage to an existing run instead of starting a new one.")]
RunsRootOpt = Annotated[Path | None, typer.Option("--runs-root", help="Run store folder (default: runs.root in the config, else ./runs).")]
EngineOpt = Annotated[str | None, typer.Option("--engine", help="Where heavy loops run: local or ray (engine.kind).")]
RayAddressOpt = Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address (engine.address); "
                                                                         "implies --engine ray.")]
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


def output(payload: dict[str, Any], human: str) -> None:
    """Print `payload` as JSON under --json, else the human line(s), to stdout."""
    if json_mode():
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        typer.echo(human)


def require(condition: bool, message: str, **kwargs: Any) -> None:
    if not condition:
        raise BadInputError(message, **kwargs)


def engine_overrides(overrides: list[str] | None, engine: str | None, ray_address: str | None) -> list[str]:
    """`--set` overrides plus those implied by --engine / --ray-address (the options win)."""
    extra = list(overrides or [])
    if ray_address:
        extra += ["engine.kind=ray", f"engine.address={ray_address}"]
    if engine:
        extra.append(f"engine.kind={engine}")
    return extra
