"""The scrub stage on Ray: an actor pool, each actor holding one Presidio analyzer, scrubbing the local chunks.

Chunks (`scrub.chunk_rows` rows) are the shards: the driver reads the input, hashes it and writes the output in input
order exactly as the local engine does, so the scrubbed table and every record number are the local ones. Finished
shards are cached under the runs root until the table is done, so a killed job resumes where it stopped.
"""
from __future__ import annotations

import contextlib
import hashlib
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from audit.core.config import EngineConfig, ScrubConfig
from audit.core.engine import Cached, ShardCache, ShardFault, ordered_map, ray_session, worker_count
from audit.core.errors import GovauditError
from audit.core.io import sha256_file
from audit.record import Execution

from ._batch import Scrubber
from ._table import ChunkResult, ChunkRunner, scrub_chunk

__all__ = ["RayScrub"]


class _ScrubActor:
    """One analyzer + anonymizer (no worker processes of its own: the actors are the parallelism)."""

    def __init__(self, config: ScrubConfig, shared_key: tuple[bytes, str] | None) -> None:
        from audit.core.console import set_quiet

        set_quiet(True)
        self.scrubber = Scrubber(config.model_copy(update={"n_process": 1}), shared_key=shared_key)

    def scrub(self, chunk: pd.DataFrame, text_columns: list[str], where: str, row0: int,
              residual_check: bool) -> ChunkResult:
        return scrub_chunk(self.scrubber, chunk, text_columns, where=where, row0=row0, residual_check=residual_check)


class RayScrub:
    """Context manager: a Ray session and an actor pool for the tables of one scrub stage."""

    def __init__(self, scrubber: Scrubber, engine: EngineConfig, cache_root: Path) -> None:
        self.scrubber, self.engine, self.cache_root = scrubber, engine, cache_root
        self._stack = contextlib.ExitStack()
        self.actors: list[object] = []
        self.caches: list[ShardCache] = []

    def __enter__(self) -> RayScrub:
        ray = self._stack.enter_context(ray_session(self.engine))
        actor = ray.remote(num_cpus=self.engine.cpus_per_worker)(_ScrubActor)
        shared = (self.scrubber.key, self.scrubber.key_source) if self.scrubber.key is not None else None
        self.actors = [actor.remote(self.scrubber.config, shared) for _ in range(worker_count(ray, self.engine))]
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.actors = []
        self._stack.close()
        if exc_type is not None and issubclass(exc_type, GovauditError):
            self.finished()  # bad input: nothing to resume (only an interruption keeps the finished shards)

    def _resumable(self) -> bool:
        """An ephemeral pseudonym key dies with the run, so shards scrubbed with it cannot be reused."""
        return self.engine.resume and not (self.scrubber.key is not None and self.scrubber.key_source.startswith("ephemeral"))

    def cache_for(self, source_path: Path, role: str, text_columns: list[str]) -> ShardCache:
        key_id = hashlib.sha256(self.scrubber.key).hexdigest() if self.scrubber.key is not None else "-"
        key = ShardCache.key("scrub", role, sha256_file(source_path), ",".join(text_columns),
                             self.scrubber.config.model_dump_json(), key_id)
        cache = ShardCache(self.cache_root, key, enabled=self._resumable())
        self.caches.append(cache)
        return cache

    def runner(self, cache: ShardCache, text_columns: list[str], *, where: str, residual_check: bool,
               execution: Execution) -> ChunkRunner:
        """The ChunkRunner `scrub_table` calls: cached shards pass through, the rest go to the actors in order."""
        execution.engine, execution.workers = "ray", len(self.actors)
        fault = ShardFault()

        def run(items: Iterator[tuple[int, int, pd.DataFrame]]) -> Iterator[ChunkResult]:
            import pyarrow as pa

            order: deque[tuple[int, bool]] = deque()  # (shard index, computed here?) in input order

            def feed() -> Iterator[object]:
                for index, row0, chunk in items:
                    hit = cache.get(index)
                    order.append((index, hit is None))
                    if hit is not None:
                        execution.shards_reused += 1
                        yield Cached(ChunkResult.from_stats(hit[0].to_pandas(), hit[1]))
                    else:
                        yield (row0, chunk)

            def call(actor: object, item: tuple[int, pd.DataFrame]) -> object:
                row0, chunk = item
                return actor.scrub.remote(chunk, text_columns, where, row0, residual_check)  # type: ignore[attr-defined]

            for result in ordered_map(self.actors, call, feed()):
                index, fresh = order.popleft()
                if fresh:
                    cache.put(index, pa.Table.from_pandas(result.frame, preserve_index=False), result.stats())
                    fault.shard_done()
                yield result

        return run

    def finished(self) -> None:
        """The stage's output is in place (or deleted): the cached shards are no longer needed."""
        for cache in self.caches:
            cache.clear()
