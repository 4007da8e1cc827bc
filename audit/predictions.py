"""Audit a predictions table alone (`govaudit audit --predictions FILE`): label, prediction, optional class
probabilities and sensitive features, from any model served anywhere, through the same fairness section, policy,
report and dashboard as a model audit. Columns are mapped by the config's `predictions:` section.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit.core.config import ProjectConfig
from audit.core.console import info, warn
from audit.core.data import LABEL, ROW_ID, read_table
from audit.core.errors import BadInputError
from audit.fairness import fairness_section
from audit.record import ClassificationMetrics, ClassMetrics, RunRecord, fingerprint
from audit.record.metrics import classification_metrics, macro_f1
from audit.record.store import RunStore, finish_stage

from .stage import PREDICTIONS_FILE, write_predictions

__all__ = ["PredictionsTable", "read_predictions", "run_predictions_audit"]


@dataclass
class PredictionsTable:
    """A validated predictions table: canonical frame (row_id, label, sensitive features), label indices, labels."""

    frame: pd.DataFrame
    labels: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    unknown_counts: dict[str, int]
    source: Path
    raw: pd.DataFrame  # the table as read (for its fingerprint)


def _column(frame: pd.DataFrame, name: str, what: str, where: str) -> pd.Series:
    if name not in frame.columns:
        columns = sorted(map(str, frame.columns))
        raise BadInputError(f"{what} column {name!r} is not in the predictions table", where=where,
                            fix=f"map it in the config's predictions section (columns: {columns})")
    return frame[name]


def _labels(project: ProjectConfig, frame: pd.DataFrame, truth: pd.Series, pred: pd.Series) -> list[str]:
    mapping = project.predictions
    if mapping.labels:
        return list(mapping.labels)
    if mapping.proba_columns:
        return list(mapping.proba_columns)
    prefixed = [str(c)[len("proba_"):] for c in frame.columns if str(c).startswith("proba_")]
    return prefixed or sorted(set(truth) | set(pred))


def _proba(frame: pd.DataFrame, labels: list[str], project: ProjectConfig, where: str) -> np.ndarray | None:
    mapping = project.predictions
    columns = mapping.proba_columns or {label: f"proba_{label}" for label in labels
                                        if f"proba_{label}" in frame.columns}
    if not columns:
        return None
    missing = [label for label in labels if label not in columns]
    if missing:
        raise BadInputError(f"probability columns cover {sorted(columns)} but not {missing}", where=where,
                            fix="give a probability column for every label, or none")
    values = frame[[columns[label] for label in labels]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        raise BadInputError(f"{int(bad.any(axis=1).sum())} row(s) have a probability that is missing, not a number or "
                            "outside [0, 1]", where=where, fix="write probabilities as numbers in [0, 1]")
    return values


def read_predictions(project: ProjectConfig, path: Path) -> PredictionsTable:
    """Read and check a predictions table; every problem is a BadInputError (exit 2) raised before a run exists."""
    where = str(path)
    mapping = project.predictions
    features = list(project.data.sensitive_features)
    if not features:
        raise BadInputError("no sensitive features configured", where="data.sensitive_features",
                            fix="list the sensitive features whose groups are audited")
    frame = read_table(path)
    if frame.empty:
        raise BadInputError("the predictions table has no rows", where=where)
    truth = _column(frame, mapping.label_column, "label", where).astype("string").str.strip()
    pred = _column(frame, mapping.prediction_column, "prediction", where).astype("string").str.strip()
    if truth.isna().any() or pred.isna().any():
        raise BadInputError(f"{int(truth.isna().sum() + pred.isna().sum())} missing label or prediction value(s)",
                            where=where, fix="every row needs its true label and the model's prediction")
    labels = _labels(project, frame, truth, pred)
    index = {label: i for i, label in enumerate(labels)}
    for series, what in ((truth, "label"), (pred, "prediction")):
        unknown = sorted(set(series) - set(index))
        if unknown:
            raise BadInputError(f"{what} values {unknown} are not among the labels {labels}", where=where,
                                fix="set predictions.labels to the full label set")
    out = pd.DataFrame({ROW_ID: (frame[mapping.id_column].astype(str) if mapping.id_column in frame.columns
                                 else pd.Series(np.arange(len(frame))).astype(str)).to_numpy(),
                        LABEL: truth.to_numpy(dtype=object)})
    unknown_counts = {}
    for feature in features:
        name = mapping.sensitive_columns.get(feature) or (feature if feature in frame.columns else f"sf_{feature}")
        values = _column(frame, name, f"sensitive feature {feature!r}", where).astype("string").str.strip()
        missing = values.isna() | (values == "")
        unknown_counts[feature] = int(missing.sum())
        out[feature] = values.mask(missing, project.data.unknown_group).astype(str).to_numpy()
    return PredictionsTable(frame=out, labels=labels, y_true=truth.map(index).to_numpy(np.int64),
                            y_pred=pred.map(index).to_numpy(np.int64), proba=_proba(frame, labels, project, where),
                            unknown_counts=unknown_counts, source=path, raw=frame)


def _overall(table: PredictionsTable) -> ClassificationMetrics:
    """Held-out metrics of the given predictions (calibration only when probabilities agree with the predictions)."""
    if table.proba is not None and np.array_equal(table.proba.argmax(axis=1), table.y_pred):
        return classification_metrics(table.y_true, table.proba, table.labels)
    from sklearn.metrics import precision_recall_fscore_support

    index = list(range(len(table.labels)))
    precision, recall, f1, support = precision_recall_fscore_support(table.y_true, table.y_pred, labels=index,
                                                                     zero_division=0)
    return ClassificationMetrics(
        n=len(table.y_true), accuracy=float(np.mean(table.y_true == table.y_pred)),
        macro_f1=macro_f1(table.y_true, table.y_pred),
        per_class={label: ClassMetrics(precision=float(precision[i]), recall=float(recall[i]), f1=float(f1[i]),
                                       support=int(support[i])) for i, label in enumerate(table.labels)})


def run_predictions_audit(project: ProjectConfig, store: RunStore, record: RunRecord,
                          table: PredictionsTable) -> RunRecord:
    """The fairness section of a predictions table, saved in the run with the canonical predictions.parquet."""
    if project.fairness.outcome_kind == "score" and table.proba is None:
        raise BadInputError("outcome_kind 'score' needs probability columns", where=str(table.source),
                            fix="add proba_<label> columns (or map predictions.proba_columns)")
    features = list(project.data.sensitive_features)
    info(f"auditing {len(table.frame)} predictions from {table.source}")
    write_predictions(store.artifact(record.run_id, PREDICTIONS_FILE), table.frame, table.proba, table.labels,
                      table.y_pred, features, keep_text=False)
    section = fairness_section(y_true=table.y_true, y_pred=table.y_pred, labels=table.labels,
                               sensitive=table.frame[features], config=project.fairness, proba=table.proba,
                               unknown_group=project.data.unknown_group, predictions_artifact=PREDICTIONS_FILE,
                               unknown_counts=table.unknown_counts)
    section.overall = _overall(table)
    if table.proba is None:
        warn("no probability columns: calibration (ECE) is not measured and score outcomes are unavailable")
        record.notice("fairness", "no_probabilities", "predictions audited without class probabilities")
    record.fairness = section
    record.inputs = [fp for fp in record.inputs if fp.role != "predictions"]
    record.inputs.append(fingerprint(table.source, table.raw, role="predictions"))
    finish_stage(store, record, "audit")
    return record
