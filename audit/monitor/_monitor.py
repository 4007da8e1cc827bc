"""One monitor call: ingest new logs into the window store (skipping logs already ingested), judge every window."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from audit.core.config import EngineConfig, MonitorConfig
from audit.core.errors import BadInputError
from audit.core.io import sha256_file
from audit.record import LogFingerprint, MonitoringSection, utc_now
from audit.record.status import monitor_level

from ._descriptors import TextDescriber
from ._embeddings import Embed, embedding_drift, load_sample, sample_path
from ._evaluate import Window, evaluate_windows
from ._ingest import LogSchema, _chunk_stats, group_codes, ingest_log, label_codes
from ._policy import LoadedMonitorPolicy
from ._stats import WindowStats
from ._store import WINDOWS_FILE, Reference, WindowState, load_state, save_state
from ._windows import WindowSpec

__all__ = ["reference_stats", "update_windows", "monitoring_section", "Ingested"]


def reference_stats(predictions: pd.DataFrame, schema: LogSchema, *, texts: Sequence[str] | None = None,
                    describer: TextDescriber | None = None) -> WindowStats:
    """Statistics of the held-out predictions (`predictions.parquet`: label, prediction, proba_*, sf_*)."""
    ref_schema = LogSchema(MonitorConfig(prediction_column="prediction", label_column="label", proba_prefix="proba_"),
                           schema.labels, schema.favorable, {f: f"sf_{f}" for f in schema.sensitive},
                           schema.unknown_group)
    where = "reference predictions"
    pred = label_codes(predictions["prediction"], schema.labels, where=where, column="prediction", allow_missing=False)
    truth = label_codes(predictions["label"], schema.labels, where=where, column="label", allow_missing=True)
    probas = ref_schema.proba_columns()
    top = predictions[probas].to_numpy(np.float64).max(axis=1) if all(c in predictions for c in probas) else None
    groups = {f: group_codes(predictions[c], schema.unknown_group) for f, c in ref_schema.sensitive.items()}
    stats = _chunk_stats(predictions, pred, truth, top, None, ref_schema, None, groups)
    if texts is not None and describer is not None:
        stats.text = describer.describe(list(texts))
    return stats


@dataclass
class Ingested:
    state: WindowState
    touched: set[int]
    new_logs: list[LogFingerprint]
    skipped: list[str]
    samples: dict[int, np.ndarray] = field(default_factory=dict)  # window -> embeddings changed by this call


def _new_logs(logs: Sequence[Path], done: set[str]) -> tuple[list[tuple[Path, str]], list[str]]:
    """(log, SHA-256) of the logs not ingested before, in order (a file listed twice counts once), and the others."""
    new, skipped, seen = [], [], set(done)
    for log in logs:
        if not Path(log).is_file():
            raise BadInputError(f"log file not found: {log}", where="--log", fix="pass existing CSV/JSONL/Parquet logs")
        digest = sha256_file(log)
        if digest in seen:
            skipped.append(Path(log).name)
            continue
        seen.add(digest)
        new.append((Path(log), digest))
    return new, skipped


def update_windows(run_dir: Path, logs: Sequence[Path], schema: LogSchema, spec: WindowSpec, *,
                   describer: TextDescriber | None = None, embed: Embed | None = None, embed_sample: int = 0,
                   save: bool = True, engine: EngineConfig | None = None,
                   describer_factory: Callable[[], TextDescriber] | None = None,
                   embed_factory: Callable[[], Embed] | None = None) -> Ingested:
    """Merge every log not ingested before (by file SHA-256) into the window statistics; one atomic write at the end.
    With `embed`, each window keeps the embeddings of its first `embed_sample` texts (returned in `samples`).

    With `engine.kind: ray` each new log is ingested by a Ray actor (`ingest_logs_ray`), whose describer and encoder
    come from `describer_factory` and `embed_factory` (needed there instead of `embed`); the statistics equal the local
    engine's, the embeddings up to floating-point batching."""
    path = run_dir / WINDOWS_FILE
    state = load_state(path, spec.text)
    touched: set[int] = set()
    new_logs: list[LogFingerprint] = []
    samples: dict[int, np.ndarray] = {}
    keep = embed_sample if embed is not None else 0
    pending, skipped = _new_logs(logs, {log.file_sha256 for log in state.logs})
    on_ray = engine is not None and engine.kind == "ray"
    if on_ray:
        from ._ray import ingest_logs_ray

        keep = embed_sample if embed_factory is not None else 0
        streams: list = ingest_logs_ray([log for log, _ in pending], schema, spec, engine,
                                        first_row=state.rows_ingested, describer_factory=describer_factory,
                                        embed_factory=embed_factory, keep=keep)
    else:
        streams = [None] * len(pending)  # read lazily below: each log starts where the previous one ended
    for (log, digest), stream in zip(pending, streams):
        rows = 0
        if stream is None:
            stream = ingest_log(log, schema, spec, row_offset=state.rows_ingested, describer=describer,
                                keep_texts=keep)
        for index, piece, kept in stream:  # kept: the window's first texts, or (Ray) their embeddings
            state.windows[index] = state.windows[index].merge(piece) if index in state.windows else piece
            if kept is not None and len(kept):
                have = samples.get(index)
                if have is None:
                    have = load_sample(sample_path(run_dir, index))
                room = keep - (0 if have is None else len(have))
                if room > 0:
                    new = np.asarray(kept[:room] if on_ray else embed(kept[:room]), np.float32)
                    samples[index] = new if have is None else np.vstack([have.astype(np.float32), new])
                del kept
            touched.add(index)
            rows += piece.n
        state.rows_ingested += rows
        entry = LogFingerprint(name=log.name, file_sha256=digest, rows=rows, ingested_at=utc_now())
        state.logs.append(entry)
        new_logs.append(entry)
    if save and new_logs:
        save_state(path, state)
    return Ingested(state, touched, new_logs, skipped, samples)


def monitoring_section(ingested: Ingested, reference: Reference, spec: WindowSpec, schema: LogSchema,
                       loaded: LoadedMonitorPolicy, *, run_dir: Path | None = None,
                       reference_embeddings: np.ndarray | None = None) -> MonitoringSection:
    """Judge every window; with `reference_embeddings`, windows with embeddings (this call's, else stored under
    `run_dir`) also get the MMD embedding-drift test."""
    windows = []
    for index, stats in sorted(ingested.state.windows.items()):
        start, end = spec.bounds(index)
        drift = None
        if reference_embeddings is not None:
            sample = ingested.samples.get(index)
            if sample is None and run_dir is not None:
                sample = load_sample(sample_path(run_dir, index))
            drift = embedding_drift(reference_embeddings, sample, seed=index)
        windows.append(Window(index, spec.key(index), start, end, stats, drift))
    touched = {spec.key(i) for i in ingested.touched}
    results, alerts = evaluate_windows(windows, reference.stats, loaded.policy, schema.labels, touched=touched,
                                       unknown_group=schema.unknown_group)
    status = monitor_level(alerts)
    return MonitoringSection(policy_name=loaded.policy.name, policy_sha256=loaded.sha256, policy_source=loaded.source,
                             evaluated_at=utc_now(), window=spec.text, status=status,
                             reference_rows=reference.stats.n, reference_text_rows=reference.text_rows,
                             stats_artifact=WINDOWS_FILE, logs=ingested.state.logs, windows=results, alerts=alerts)
