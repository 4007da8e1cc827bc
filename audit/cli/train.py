"""`govaudit train`: fine-tune the classifier on the run's scrubbed data (finetune/train)."""
from __future__ import annotations

from typing import Annotated

import typer

from audit.core.console import info, warn
from audit.core.errors import BadInputError, GovauditError
from audit.core.io import atomic_write_bytes
from audit.record import RunRecord, TrainSection
from audit.record.store import RECORD_FILE, RunStore, begin_run, finish_stage

from ._options import ConfigOpt, DbUrlOpt, RunOpt, RunsRootOpt, SetOpt, open_project, output

__all__ = ["register"]


def _undo(store: RunStore, run_id: str, original: bytes | None) -> None:
    """Bad input found once training started: put the record back byte for byte (a new run is removed)."""
    import shutil

    if original is None:
        shutil.rmtree(store.run_dir(run_id), ignore_errors=True)
    else:
        atomic_write_bytes(store.run_dir(run_id) / RECORD_FILE, original)
    store.reindex(only=[run_id])


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        config: ConfigOpt,
        set_: SetOpt = None,
        run: RunOpt = None,
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue the run's interrupted training from its last checkpoint.")] = False,
        allow_unscrubbed: Annotated[bool, typer.Option("--allow-unscrubbed", help="Train on data without a valid scrub record (needs --reason; recorded as a waiver).")] = False,
        reason: Annotated[str | None, typer.Option("--reason", help="Why training on unscrubbed data is acceptable.")] = None,
        device: Annotated[str | None, typer.Option("--device", help="cpu or cuda (default: cuda if available).")] = None,
    ) -> None:
        """Fine-tune the classifier on the scrubbed data of a run; writes model/, splits.parquet and record.train."""
        if allow_unscrubbed != (reason is not None):
            raise BadInputError("--allow-unscrubbed and --reason go together",
                                fix='--allow-unscrubbed --reason "why training on unscrubbed data is acceptable"')
        if resume and not run:
            raise BadInputError("--resume needs --run RUN (the run whose training was interrupted)")
        if not run and not allow_unscrubbed:
            raise BadInputError("refusing to train on unscrubbed data: no --run with a scrub record given",
                                fix="run `govaudit scrub` and then `govaudit train --run RUN`, or accept the risk with "
                                    "--allow-unscrubbed --reason \"...\" (recorded as a waiver)")
        project, store = open_project(config, set_, runs_root, db_url)
        from finetune.train import prepare_training, summary, train_run

        existing = store.load(run) if run else None
        original = (store.run_dir(run) / RECORD_FILE).read_bytes() if run else None
        waiver = reason if allow_unscrubbed else None
        prepared = (None if project.task == "token_classification"  # bad input: exit 2, nothing written
                    else prepare_training(project, store, existing, waiver_reason=waiver, resume=resume))
        record = begin_run(store, project, run, "train")
        record.status = "running"  # a killed training shows as running, not as the scrub's "completed"
        store.save(record)
        info(f"run {record.run_id}: if interrupted, continue with --run {record.run_id} --resume")
        try:
            section = train_run(project, store, record, waiver_reason=waiver, resume=resume, device=device,
                                prepared=prepared)
        except BadInputError:
            _undo(store, record.run_id, original)
            raise
        except BaseException as err:
            record.status = "failed"
            if isinstance(err, KeyboardInterrupt):
                record.notice("train", "interrupted", f"training interrupted; resume with --run {record.run_id} --resume")
            try:
                store.save(record)
            except GovauditError as save_error:  # e.g. the runs root became read-only: report it, keep the cause
                warn(f"could not mark run {record.run_id} failed: {save_error.one_line()}")
            raise
        record.notices = [n for n in record.notices if not (n.stage == "train" and n.code == "interrupted")]
        digest = finish_stage(store, record, "train")
        if section.task == "token_classification":
            _token_output(record, store, section, digest)
            return
        result = summary(section)
        val, test = result["validation"], result["test"]
        output({"run_id": record.run_id, "model": str(store.artifact(record.run_id, section.model_artifact)),
                "record_sha256": digest, **result},
               f"run {record.run_id}: trained {section.base_model} for {section.steps} steps "
               f"({section.samples_per_s:.1f} samples/s); validation macro-F1 {val['macro_f1'] if val else '-'}, "
               f"test macro-F1 {test['macro_f1']} (n={test['n']}); model in {store.artifact(record.run_id, section.model_artifact)}")


def _token_output(record: RunRecord, store: RunStore, section: TrainSection, digest: str) -> None:
    """The train command's output for task: token_classification (strict / partial micro entity scores)."""
    entities = record.entities
    scores = {scheme: getattr(entities, scheme).micro.model_dump() for scheme in ("strict", "partial")}
    strict_f1 = scores["strict"]["f1"]["value"]
    shown = f"{strict_f1:.4f}" if strict_f1 is not None else "n/a"
    model_dir = store.artifact(record.run_id, section.model_artifact)
    output({"run_id": record.run_id, "task": section.task, "model": str(model_dir), "record_sha256": digest,
            "labels": section.labels, "steps": section.steps, "samples_per_s": section.samples_per_s,
            "entities": scores, "n_docs": entities.n_docs, "waiver": section.waiver is not None},
           f"run {record.run_id}: trained a token classifier for {section.steps} steps; {entities.split} strict "
           f"micro entity F1 {shown} (n={entities.n_docs} documents); model in {model_dir}")
