"""`govaudit audit`: fairness audit (and probes) of a trained model on held-out data, or of a predictions table."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit.core.config import ProjectConfig
from audit.record.store import RunStore, begin_run

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
    @app.command("audit")
    def audit(
        config: ConfigOpt,
        set_: SetOpt = None,
        run: RunOpt = None,
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        engine: EngineOpt = None,
        ray_address: RayAddressOpt = None,
        model: Annotated[Path | None, typer.Option("--model", help="Model directory (default: the run's trained model).")] = None,
        data: Annotated[Path | None, typer.Option("--data", help="Held-out table read with the config's column mapping "
                                                                 "(default: the run's test split, else data.eval).")] = None,
        mitigate: Annotated[str | None, typer.Option("--mitigate", help="'threshold': fit fairlearn ThresholdOptimizer "
                                                                        "on a calibration split and save thresholds.json.")] = None,
        constraint: Annotated[str, typer.Option("--constraint", help="demographic_parity or equalized_odds.")] = "demographic_parity",
        mitigate_by: Annotated[list[str] | None, typer.Option("--mitigate-by", help="Sensitive feature(s) whose groups get "
                                                                                  "thresholds (default: all, intersected).")] = None,
        keep_text: Annotated[bool, typer.Option("--keep-text", help="Also store the (scrubbed) text in predictions.parquet.")] = False,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Inference batch size.")] = 64,
        device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, ... (default: cuda if available).")] = None,
        predictions: Annotated[Path | None, typer.Option("--predictions", help="Audit this predictions table alone "
                                                                             "(label, prediction, optional proba_<label>, "
                                                                             "sensitive features; mapping: config "
                                                                             "`predictions:`), no model.")] = None,
    ) -> None:
        """Audit a model by group: rates, impact ratios, four-fifths, disparities with bootstrap CIs.

        Exit 0 ok (warnings on stderr and in the record), 2 bad input (missing sensitive column, labels unseen by
        the model, unknown favorable label, no model or data).
        """
        project, store = open_project(config, engine_overrides(set_, engine, ray_address), runs_root, db_url)
        from audit.core.errors import BadInputError
        from audit.stage import check_mitigation, prepare_audit, run_audit

        if predictions is not None:
            if run is not None or model is not None or data is not None or mitigate or keep_text:
                raise BadInputError("--predictions audits a predictions table alone",
                                    fix="drop --run/--model/--data/--mitigate/--keep-text with --predictions")
            from audit.predictions import read_predictions, run_predictions_audit

            table = read_predictions(project, predictions)
            record = run_predictions_audit(project, store, begin_run(store, project, None, "audit"), table)
        else:
            if run is None and model is None:
                raise BadInputError("nothing to audit", fix="pass --run RUN (a trained run), --model DIR --data PATH, "
                                                            "or --predictions FILE")
            if project.task == "token_classification":
                _token_audit(project, store, run, model, data, device, batch_size)
                return
            check_mitigation(project, mitigate, constraint, mitigate_by)
            existing = store.load(run) if run is not None else None
            prepared = prepare_audit(project, store, existing, model_dir=model, data_path=data, device=device)
            record = begin_run(store, project, run, "audit")
            record = run_audit(project, store, record, prepared, mitigate=mitigate, constraint=constraint,
                               mitigate_by=mitigate_by, keep_text=keep_text, batch_size=batch_size)
        section = record.fairness
        assert section is not None
        failures = {f"{g.name} [{g.outcome}]": g.four_fifths_failures for g in section.groupings if g.four_fifths_failures}
        payload = {"run_id": record.run_id, "status": record.status, "n_rows": section.n_rows,
                   "favorable_outcome": section.favorable_outcome,
                   "accuracy": section.overall.accuracy if section.overall else None,
                   "four_fifths_failures": failures, "overlap_with_training": section.overlap_with_training,
                   "mitigation": section.mitigation.model_dump() if section.mitigation else None,
                   "notices": [n.message for n in record.notices if n.stage == "fairness"]}
        lines = [record.run_id]
        for grouping in section.groupings:
            ratio = grouping.disparities.get("demographic_parity_ratio")
            shown = f"{ratio.value:.3f}" if ratio and ratio.value is not None else "n/a"
            lines.append(f"  {grouping.name} [{grouping.outcome}]: lowest impact ratio {shown}; "
                         f"four-fifths failures: {', '.join(grouping.four_fifths_failures) or 'none'}")
        output(payload, "\n".join(lines))


def _token_audit(project: ProjectConfig, store: RunStore, run: str | None, model: Path | None, data: Path | None,
                 device: str | None, batch_size: int) -> None:
    """`govaudit audit` for task: token_classification: entity metrics and entity-recall parity."""
    from audit.token_stage import prepare_token_audit, run_token_audit

    existing = store.load(run) if run is not None else None
    classifier, docs, source = prepare_token_audit(project, store, existing, model_dir=model, data_path=data,
                                                   device=device)
    record = begin_run(store, project, run, "audit")
    record = run_token_audit(project, store, record, classifier, docs, source, batch_size=batch_size)
    entities, parity, flips = record.entities, record.entity_parity, record.span_flips
    payload = {"run_id": record.run_id, "status": record.status, "n_docs": entities.n_docs,
               "strict_micro_f1": entities.strict.micro.f1.value, "partial_micro_f1": entities.partial.micro.f1.value,
               "entity_parity": {f.family: f.recall_ratio.value for f in parity.families} if parity else None,
               "span_flips": {f.family: f.highest_flip_rate.value for f in flips.families} if flips else None,
               "span_name_share": record.span_attribution.name_share.value if record.span_attribution else None}
    lines = [f"{record.run_id}: strict micro entity F1 {entities.strict.micro.f1.value} on {entities.n_docs} documents"]
    for family in parity.families if parity else []:
        shown = f"{family.recall_ratio.value:.3f}" if family.recall_ratio.value is not None else "n/a"
        lines.append(f"  {family.family}: lowest/highest name recall {shown} ({family.lowest_group} vs "
                     f"{family.highest_group})")
    for family in flips.families if flips else []:
        rate = family.highest_flip_rate.value
        lines.append(f"  {family.family}: name swaps changing the predicted spans, highest group "
                     f"{family.highest_group or 'n/a'} {'n/a' if rate is None else f'{rate:.3f}'}")
    output(payload, "\n".join(lines))
