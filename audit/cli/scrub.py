"""`govaudit scrub`: PII-scrub the training (and eval) text with Presidio into the run directory."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit.core.config import ProjectConfig
from audit.record.store import RunStore

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
        evaluate: Annotated[Path | None, typer.Option("--evaluate", help="Score the scrubber on this labelled JSONL/JSON/CoNLL file "
                                                                         "(text + spans) instead of scrubbing: per-entity recall and "
                                                                         "precision into record.pii_evaluation.")] = None,
        entity_map: Annotated[list[str] | None, typer.Option("--entity-map", help="--evaluate: LABEL=TYPE, the scrubber type a "
                                                                                   "labelled type is compared with.")] = None,
        n_boot: Annotated[int, typer.Option("--n-boot", min=0, help="--evaluate: bootstrap resamples for the CIs.")] = 200,
    ) -> None:
        """Replace PII in the text columns (Presidio); other columns are copied unaltered.

        Exit 0 ok, 1 the residual check still found PII (run marked failed, scrubbed files deleted), 2 bad input
        (nothing written).
        """
        project, store = open_project(config, engine_overrides(set_, engine, ray_address), runs_root, db_url)
        if evaluate is not None:
            _evaluate(project, store, evaluate, run, entity_map or [], n_boot)
            return
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


def _evaluate(project: ProjectConfig, store: RunStore, path: Path, run: str | None, entity_map: list[str],
              n_boot: int) -> None:
    """`govaudit scrub --evaluate`: the PII-recall certificate of the configured scrubber."""
    from finetune.scrub import parse_entity_map, run_pii_evaluation

    record = run_pii_evaluation(project, store, path, run_id=run, entity_map=parse_entity_map(entity_map), n_boot=n_boot)
    section = record.pii_evaluation
    assert section is not None
    payload = {"run_id": record.run_id, "n_docs": section.n_docs, "mode": section.mode,
               "per_entity": {k: {"support": v.support, "recall": v.recall.value, "values_gone": v.values_gone.value,
                                  "precision": v.precision.value} for k, v in section.per_entity.items()},
               "micro_recall": section.micro.recall.value}
    shown = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [f"{record.run_id}: scrubber on {section.n_docs} labelled documents (mode {section.mode})"]
    lines += [f"  {k}: recall {shown(v.recall.value)}, values gone {shown(v.values_gone.value)}, precision "
              f"{shown(v.precision.value)} (n={v.support})" for k, v in section.per_entity.items()]
    output(payload, "\n".join(lines))
