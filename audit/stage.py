"""The audit stage: load the model and held-out data, predict, write the fairness section, then the probes.

Inputs come from a run (`--run`: the trained model and its held-out 'test' rows, scrubbed text) or are explicit
(`--model DIR --data PATH`, any table read with the config's column mapping). Predictions are saved as
`predictions.parquet` keyed by row id, without text unless asked.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from audit.core.config import DataConfig, ProjectConfig
from audit.core.console import info, warn
from audit.core.data import LABEL, ROW_ID, TEXT, ValidatedTable, read_table, validate_table
from audit.core.engine import Cached, ModelMap, ShardCache, ShardFault, split_rows
from audit.core.errors import BadInputError
from audit.core.io import atomic_path, atomic_write_text, model_files_sha256, model_sha256, sha256_bytes
from audit.core.model_io import LoadedClassifier, load_classifier, predict_proba
from audit.fairness import CONSTRAINTS, GroupCounts, fairness_section, mitigate_threshold, resolve_outcomes
from audit.record import Execution, FairnessSection, RunRecord, fingerprint
from audit.record.store import RunStore, finish_stage

__all__ = ["PREDICTIONS_FILE", "THRESHOLDS_FILE", "SPLITS_FILE", "HeldOut", "PreparedAudit", "text_fingerprints",
           "load_held_out", "write_predictions", "predict_and_count", "prepare_audit", "check_mitigation", "run_audit"]

PREDICTIONS_FILE = "predictions.parquet"
THRESHOLDS_FILE = "thresholds.json"
SPLITS_FILE = "splits.parquet"  # written by `govaudit train` (finetune/train/_data.py): row_id, split, source
_SPACE = re.compile(r"\s+")


@dataclass
class HeldOut:
    """The evaluation table and the fingerprints of the texts the model was trained (or validated) on."""

    table: ValidatedTable
    source: str
    training_fingerprints: set[str] = field(default_factory=set)


def text_fingerprints(texts: pd.Series | list[str]) -> list[str]:
    """SHA-256 of each text, case-folded with whitespace collapsed: equal fingerprints = the same text."""
    return [hashlib.sha256(_SPACE.sub(" ", str(t)).strip().casefold().encode("utf-8")).hexdigest() for t in texts]


def _mapping_for(frame: pd.DataFrame, mapping: DataConfig) -> DataConfig:
    """The project mapping, or the canonical one if the table was already canonicalised (row_id/text/label)."""
    wanted = [*mapping.text_columns, mapping.label_column, *([mapping.id_column] if mapping.id_column else [])]
    if all(c in frame.columns for c in wanted) or not {ROW_ID, TEXT, LABEL} <= set(frame.columns):
        return mapping
    return mapping.model_copy(update={"text_columns": [TEXT], "label_column": LABEL, "id_column": ROW_ID})


def _read(path: Path, mapping: DataConfig, role: str, known_labels: list[str] | None) -> ValidatedTable:
    frame = read_table(path)
    table = validate_table(frame, _mapping_for(frame, mapping), where=str(path), role=role, known_labels=known_labels)
    table.fingerprint = fingerprint(path, frame, role=role)
    return table


def _run_tables(store: RunStore, record: RunRecord, project: ProjectConfig) -> dict[str, Path]:
    """source name (train/eval) -> table the run trained from: the scrubbed table if scrubbed, else the raw data."""
    paths: dict[str, Path] = {}
    scrub = record.scrub
    for role in ("train", "eval"):
        table = scrub.tables.get(role) if scrub and scrub.tables else None
        if table is None and scrub is not None and role == "train" and scrub.output_artifact:
            paths[role] = store.artifact(record.run_id, scrub.output_artifact)
        elif table is not None and table.output_artifact:
            paths[role] = store.artifact(record.run_id, table.output_artifact)
        elif getattr(project.data, role) is not None:
            paths[role] = Path(getattr(project.data, role).path)
    return paths


def load_held_out(project: ProjectConfig, labels: list[str], *, store: RunStore | None = None,
                  record: RunRecord | None = None, data_path: Path | None = None) -> HeldOut:
    """Explicit data, else the run's test split, else `data.eval`; plus training-text fingerprints for overlap."""
    mapping = project.data
    run_has_splits = (store is not None and record is not None and record.train is not None
                      and store.artifact(record.run_id, SPLITS_FILE).is_file())
    train_fps: set[str] = set()
    if run_has_splits:
        splits = pd.read_parquet(store.artifact(record.run_id, SPLITS_FILE))
        tables = _run_tables(store, record, project)
        for source, path in tables.items():
            seen = splits[(splits["source"] == source) & (splits["split"] != "test")]["row_id"]
            if len(seen):
                frame = _read(path, mapping, source, None).frame
                train_fps.update(text_fingerprints(frame[frame[ROW_ID].isin(set(seen))][TEXT]))
    elif project.data.train is not None and Path(project.data.train.path).is_file():
        train_fps.update(text_fingerprints(_read(Path(project.data.train.path), mapping, "train", None).frame[TEXT]))

    if data_path is not None:
        return HeldOut(_read(Path(data_path), mapping, "eval", labels), str(data_path), train_fps)
    if run_has_splits:
        tests = splits[splits["split"] == "test"]
        parts = []
        for source, rows in tests.groupby("source"):
            table = _read(tables[source], mapping, "eval", labels)
            keep = table.frame[ROW_ID].isin(set(rows["row_id"]))
            parts.append((table, table.frame[keep]))
        if not parts:
            raise BadInputError(f"run {record.run_id} has no held-out test rows in {SPLITS_FILE}",
                                fix="pass --data PATH with held-out data")
        table = parts[0][0]
        table.frame = pd.concat([p[1] for p in parts], ignore_index=True)
        table.unknown_counts = {c: int((table.frame[c] == mapping.unknown_group).sum()) for c in mapping.sensitive_features}
        return HeldOut(table, f"run {record.run_id} test split", train_fps)
    if project.data.eval is not None:
        return HeldOut(_read(Path(project.data.eval.path), mapping, "eval", labels), str(project.data.eval.path), train_fps)
    raise BadInputError("no held-out data to audit", fix="pass --run RUN (a trained run), --data PATH, or set data.eval")


def write_predictions(path: Path, frame: pd.DataFrame, proba: np.ndarray | None, labels: list[str], y_pred: np.ndarray,
                      sensitive: list[str], *, keep_text: bool) -> None:
    """Parquet keyed by row_id: label, prediction, proba_<label> per class (if known), sensitive features (text only
    if asked)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = {ROW_ID: frame[ROW_ID].astype(str).to_numpy(), LABEL: frame[LABEL].astype(str).to_numpy(),
           "prediction": np.asarray(labels, dtype=object)[y_pred]}
    for i, label in enumerate(labels if proba is not None else []):
        out[f"proba_{label}"] = proba[:, i].astype(np.float32)
    for column in sensitive:
        out[f"sf_{column}"] = frame[column].astype(str).to_numpy()
    if keep_text:
        out[TEXT] = frame[TEXT].astype(str).to_numpy()
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(out), tmp)


def predict_and_count(classifier: LoadedClassifier, texts: list[str], y_true: np.ndarray, sensitive: pd.DataFrame, *,
                      count: bool, batch_size: int, max_length: int) -> tuple[np.ndarray, GroupCounts | None]:
    """One shard of a Ray audit: the probabilities and, with `count`, the shard's `GroupCounts` (added up by the
    driver); score outcomes are counted by the driver, since their threshold is the median over all rows."""
    proba = predict_proba(classifier, texts, batch_size=batch_size, max_length=max_length)
    counts = GroupCounts.from_arrays(sensitive, y_true, proba.argmax(axis=1), classifier.labels) if count else None
    return proba, counts


def _predict_cache(classifier: LoadedClassifier, texts: list[str], y_true: np.ndarray, sensitive: pd.DataFrame,
                   project: ProjectConfig, root: Path, count: bool) -> ShardCache:
    """Finished predict shards of this model, these rows and these settings (kept until the audit completes)."""
    model = model_sha256(model_files_sha256(classifier.path))
    rows = hashlib.sha256("\x1f".join(texts).encode("utf-8"))
    rows.update(np.asarray(y_true, np.int64).tobytes())
    rows.update(pd.util.hash_pandas_object(sensitive.astype(str), index=False).to_numpy().tobytes())
    key = ShardCache.key("predict", model, rows.hexdigest(), str(project.model.max_length),
                         str(project.engine.shard_rows), str(count))
    return ShardCache(root, key, enabled=project.engine.resume)


def _predict_on_ray(classifier: LoadedClassifier, texts: list[str], y_true: np.ndarray, sensitive: pd.DataFrame,
                    project: ProjectConfig, batch_size: int,
                    cache_root: Path) -> tuple[np.ndarray, GroupCounts | None, Execution, ShardCache]:
    """Probabilities and merged shard counts from Ray actors. Finished shards are cached under `cache_root`, so a
    killed audit rerun with the same model, rows and settings computes only the missing ones."""
    import pyarrow as pa

    engine = project.engine
    count = project.fairness.outcome_kind != "score"
    cache = _predict_cache(classifier, texts, y_true, sensitive, project, cache_root, count)
    slices = split_rows(len(texts), engine.shard_rows)
    execution = Execution(engine="ray", workers=0, shards=len(slices))
    shards: list = []
    for i, rows in enumerate(slices):
        hit = cache.get(i)
        if hit is None:
            shards.append((texts[rows], y_true[rows], sensitive.iloc[rows]))
        else:
            execution.shards_reused += 1
            table, stats = hit
            shards.append(Cached((np.stack([c.to_numpy() for c in table.columns], axis=1),
                                  GroupCounts.from_dict(stats["counts"]) if stats["counts"] else None)))
    mapped = ModelMap(classifier.path, predict_and_count, shards, engine, count=count, batch_size=batch_size,
                      max_length=project.model.max_length)
    fault = ShardFault()
    probas, counts = [], []
    for i, (proba, part) in enumerate(mapped):
        if not isinstance(shards[i], Cached):
            cache.put(i, pa.table({f"p{j}": proba[:, j] for j in range(proba.shape[1])}),
                      {"counts": part.to_dict() if part is not None else None})
            fault.shard_done()
        probas.append(proba)
        counts += [part] if part is not None else []
        execution.shard_sha256.append(sha256_bytes(np.ascontiguousarray(proba, dtype=np.float32).tobytes()))
    execution.workers = mapped.workers
    return np.concatenate(probas), GroupCounts.total(counts) if counts else None, execution, cache


def _target_label(labels: list[str], project: ProjectConfig) -> str:
    """The class whose probability the probes follow: the favorable label (or the adverse one, if that is named)."""
    outcome = resolve_outcomes(labels, project.fairness)[0]
    if len(outcome.classes) == 1:
        return labels[outcome.classes[0]]
    return project.fairness.adverse_label or labels[outcome.classes[0]]


def _run_probes(classifier: LoadedClassifier, frame: pd.DataFrame, record: RunRecord, project: ProjectConfig,
                target: str) -> None:
    """Counterfactual identity swaps and captum attributions, when enabled; the term lists are loaded once."""
    if not (project.counterfactual.enabled or project.attribution.enabled):
        return
    from audit.probes.attribution import attribution_section
    from audit.probes.counterfactual import counterfactual_section
    from audit.probes.counterfactual.terms import load_terms

    terms = load_terms(project.counterfactual.terms_file)
    if project.counterfactual.enabled:
        record.counterfactual = counterfactual_section(classifier, frame, project.counterfactual, target,
                                                       project.model.max_length, terms=terms)
    if project.attribution.enabled:
        record.attribution = attribution_section(classifier, frame, project.attribution,
                                                 list(project.data.sensitive_features), target, terms=terms,
                                                 model_max_length=project.model.max_length, engine=project.engine)


def _notices(section: FairnessSection, record: RunRecord) -> None:
    small = {(g.name, r.group) for g in section.groupings for r in g.groups if r.small and not r.unknown}
    excluded = {(g.name, r.group) for g in section.groupings for r in g.groups if r.excluded and not r.unknown}
    undefined = {(g.name, r.group) for g in section.groupings for r in g.groups
                 if "tpr" in r.metrics and r.metrics["tpr"].value is None}
    messages = []
    if small:
        messages.append(("small_group", f"{len(small)} group(s) below min_group_size are reported but too small for "
                                        "a verdict"))
    if excluded:
        messages.append(("excluded_group", f"{len(excluded)} group(s) under min_group_share (LL144 2% rule) are "
                                           "reported but excluded from the impact ratio"))
    if undefined:
        messages.append(("undefined_metric", f"{len(undefined)} group(s) have no actual favorable outcomes: TPR/FNR "
                                             "are reported as undefined"))
    for code, message in messages:
        warn(message)
        record.notice("fairness", code, message)


@dataclass
class PreparedAudit:
    """Everything checked before a run is created or changed: the model, the outcome, the held-out rows."""

    classifier: LoadedClassifier
    held: HeldOut


def prepare_audit(project: ProjectConfig, store: RunStore, record: RunRecord | None = None, *,
                  model_dir: Path | None = None, data_path: Path | None = None, device: str | None = None) -> PreparedAudit:
    """Load and check the model and held-out data; every problem is a BadInputError raised before anything is written."""
    if not project.data.sensitive_features:
        raise BadInputError("no sensitive features configured", where="data.sensitive_features",
                            fix="list the columns holding sex, race/ethnicity, age band, ...")
    if model_dir is None:
        if record is None or record.train is None:
            raise BadInputError("no trained model to audit", fix="run `govaudit train` first, or pass --model DIR")
        model_dir = store.artifact(record.run_id, record.train.model_artifact)
    classifier = load_classifier(model_dir, device)
    resolve_outcomes(classifier.labels, project.fairness)  # a bad outcome config fails before inference
    held = load_held_out(project, classifier.labels, store=store, record=record, data_path=data_path)
    return PreparedAudit(classifier, held)


def check_mitigation(project: ProjectConfig, mitigate: str | None, constraint: str, mitigate_by: list[str] | None) -> None:
    if mitigate not in (None, "threshold"):
        raise BadInputError(f"unknown mitigation {mitigate!r}", where="--mitigate", fix="use --mitigate threshold")
    if constraint not in CONSTRAINTS:
        raise BadInputError(f"unknown constraint {constraint!r}", where="--constraint", fix=f"choose one of {list(CONSTRAINTS)}")
    unknown = sorted(set(mitigate_by or []) - set(project.data.sensitive_features))
    if unknown:
        raise BadInputError(f"{unknown} are not sensitive features", where="--mitigate-by",
                            fix=f"choose from {project.data.sensitive_features}")


def run_audit(project: ProjectConfig, store: RunStore, record: RunRecord, prepared: PreparedAudit, *,
              mitigate: str | None = None, constraint: str = "demographic_parity",
              mitigate_by: list[str] | None = None, keep_text: bool = False, batch_size: int = 64) -> RunRecord:
    """Audit and save: predictions, fairness section (+ mitigation), probes; `finish_stage(..., 'audit')`."""
    check_mitigation(project, mitigate, constraint, mitigate_by)
    classifier, held = prepared.classifier, prepared.held
    labels, sensitive = classifier.labels, list(project.data.sensitive_features)
    frame = held.table.frame.reset_index(drop=True)
    info(f"auditing {len(frame)} held-out rows from {held.source}")

    overlap = 0
    if held.training_fingerprints:
        overlap = sum(fp in held.training_fingerprints for fp in text_fingerprints(frame[TEXT]))
        if overlap:
            message = f"{overlap} of {len(frame)} evaluation rows have the same text as training rows (fingerprint match)"
            warn(message)
            record.notice("fairness", "train_overlap", message)

    texts = frame[TEXT].tolist()
    index = {label: i for i, label in enumerate(labels)}
    y_true = frame[LABEL].map(index).to_numpy()
    execution = counts = cache = None
    if project.engine.kind == "ray" and texts:
        proba, counts, execution, cache = _predict_on_ray(classifier, texts, y_true, frame[sensitive], project,
                                                          batch_size, store.root)
    else:
        proba = predict_proba(classifier, texts, batch_size=batch_size, max_length=project.model.max_length)
    y_pred = proba.argmax(axis=1)
    write_predictions(store.artifact(record.run_id, PREDICTIONS_FILE), frame, proba, labels, y_pred, sensitive,
                      keep_text=keep_text)

    section = fairness_section(y_true=y_true, y_pred=y_pred, labels=labels, sensitive=frame[sensitive],
                               config=project.fairness, proba=proba, unknown_group=project.data.unknown_group,
                               predictions_artifact=PREDICTIONS_FILE, unknown_counts=held.table.unknown_counts,
                               overlap_with_training=overlap, counts=counts)
    section.execution = execution
    if mitigate == "threshold":
        result, payload = mitigate_threshold(proba=proba, y_true=y_true, y_pred=y_pred, labels=labels,
                                             sensitive=frame[mitigate_by or sensitive], config=project.fairness,
                                             constraint=constraint,
                                             unknown_group=project.data.unknown_group, thresholds_artifact=THRESHOLDS_FILE)
        atomic_write_text(store.artifact(record.run_id, THRESHOLDS_FILE), json.dumps(payload, indent=2))
        section.mitigation = result
    record.fairness = section
    _notices(section, record)
    if held.table.fingerprint is not None:
        record.inputs = [fp for fp in record.inputs if not (fp.role == "eval" and fp.path == held.table.fingerprint.path)]
        record.inputs.append(held.table.fingerprint)

    audited = frame.assign(prediction=np.asarray(labels, dtype=object)[y_pred])
    _run_probes(classifier, audited, record, project, _target_label(labels, project))
    finish_stage(store, record, "audit")
    if cache is not None:
        cache.clear()
    return record
