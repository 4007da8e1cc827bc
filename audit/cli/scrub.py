"""`govaudit scrub`: PII-scrub the training (and eval) text with Presidio into the run directory."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._options import (
    ConfigOpt,
    DbUrlOpt,
    EngineOpt,
    RayAddressOpt,
    RunOpt,
    RunsRootOpt,
    SetOpt,
    engine_overrides,
    open_project,
    output,
)

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("scrub")
    def scrub(
        config: ConfigOpt,
        set_: SetOpt = None,
        run: RunOpt = None,
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        engine: EngineOpt = None,
        ray_address: RayAddressOpt = None,
        input_path: Annotated[Path | None, typer.Option("--input", help="Scrub this file (role train) instead of data.train/eval.")] = None,
        output_path: Annotated[Path | None, typer.Option("--output", help="Also copy the scrubbed train table to this .parquet path.")] = None,
    ) -> None:
        """Replace PII in the text columns (Presidio); other columns are copied unaltered.

        Exit 0 ok, 1 the residual check still found PII (run marked failed, scrubbed files deleted), 2 bad input
        (nothing written).
        """
        project, store = open_project(config, engine_overrides(set_, engine, ray_address), runs_root, db_url)
        from finetune.scrub import run_scrub_stage

        record = run_scrub_stage(project, store, run_id=run, input_path=input_path, output_path=output_path)
        section = record.scrub
        assert section is not None
        payload = {"run_id": record.run_id, "status": record.status,
                   "scrub": section.model_dump(include={"mode", "operator", "rows_total", "rows_touched",
                                                        "share_rows_touched", "counts", "residual", "output_artifact",
                                                        "texts_per_s"}),
                   "tables": {role: t.output_artifact for role, t in section.tables.items()}}
        output(payload, record.run_id)
