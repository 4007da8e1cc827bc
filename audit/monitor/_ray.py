"""Monitor ingestion on Ray: one log file per task, the same `ingest_log` as the local engine, pieces merged in order.

Windows by rows need each log's first row number, so their logs are counted first (Parquet from its metadata, other
formats by one read per file, on the actors too). Text descriptors and embeddings are computed on the actors with a
describer and an encoder each actor builds once from picklable factories: text never leaves an actor.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from audit.core.config import EngineConfig
from audit.core.data import column_names, detect_format, iter_chunks, iter_columns
from audit.core.engine import ordered_map, ray_session, worker_count

from ._descriptors import TextDescriber
from ._embeddings import Embed
from ._ingest import LogSchema, ingest_log
from ._stats import WindowStats
from ._windows import WindowSpec

__all__ = ["ingest_logs_ray", "count_log_rows"]

DescriberFactory = Callable[[], TextDescriber]
EmbedFactory = Callable[[], Embed]
Piece = tuple[int, WindowStats, np.ndarray | None]  # window index, statistics, embeddings of its first texts


def count_log_rows(path: Path, chunk_rows: int, column: str) -> int:
    """Data rows of a log, as `ingest_log` will see them (CSV: only `column` is parsed)."""
    fmt = detect_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if fmt == "csv" and column in (column_names(path) or []):
        return sum(len(chunk) for chunk in iter_columns(path, chunk_rows, [column]))
    return sum(len(chunk) for chunk in iter_chunks(path, chunk_rows))


class _IngestActor:
    def __init__(self, describer_factory: DescriberFactory | None, embed_factory: EmbedFactory | None) -> None:
        from audit.core.console import set_quiet

        set_quiet(True)
        self.describer = describer_factory() if describer_factory is not None else None
        self.embed = embed_factory() if embed_factory is not None else None

    def count(self, path: str, chunk_rows: int, column: str) -> int:
        return count_log_rows(Path(path), chunk_rows, column)

    def ingest(self, path: str, schema: LogSchema, spec: WindowSpec, row_offset: int, keep: int) -> list[Piece]:
        """The log's pieces; with `keep`, each with the embeddings of its window's first texts in this log (at most
        `keep` per window: the driver takes what its window still has room for, as the local engine does)."""
        embedded: dict[int, int] = {}
        pieces: list[Piece] = []
        for index, piece, texts in ingest_log(Path(path), schema, spec, row_offset=row_offset,
                                              describer=self.describer, keep_texts=keep if self.embed else 0):
            room = keep - embedded.get(index, 0)
            vectors = None
            if texts and room > 0:
                vectors = np.asarray(self.embed(texts[:room]), np.float32)  # type: ignore[misc]
                embedded[index] = embedded.get(index, 0) + len(vectors)
            pieces.append((index, piece, vectors))
        return pieces


def ingest_logs_ray(logs: Sequence[Path], schema: LogSchema, spec: WindowSpec, engine: EngineConfig, *,
                    first_row: int, describer_factory: DescriberFactory | None = None,
                    embed_factory: EmbedFactory | None = None, keep: int = 0) -> list[list[Piece]]:
    """Per log, in order: the (window index, statistics, embeddings) pieces of `ingest_log`, computed on Ray actors.

    `first_row`: rows already ingested (where the first log's rows start, for windows by rows). With `embed_factory`
    and `keep`, each piece carries the embeddings of up to `keep` of its window's first texts.
    """
    if not logs:
        return []
    with ray_session(engine) as ray:
        remote = ray.remote(num_cpus=engine.cpus_per_worker)(_IngestActor)
        actors = [remote.remote(describer_factory, embed_factory) for _ in range(min(worker_count(ray, engine), len(logs)))]
        offsets = [first_row] * len(logs)
        if spec.kind == "rows":
            rows = list(ordered_map(actors, lambda a, log: a.count.remote(str(log), schema.mapping.chunk_rows,
                                                                        schema.mapping.prediction_column), logs))
            for i in range(1, len(logs)):
                offsets[i] = offsets[i - 1] + rows[i - 1]
        return list(ordered_map(actors, lambda a, job: a.ingest.remote(str(job[0]), schema, spec, job[1], keep),
                                list(zip(logs, offsets))))
