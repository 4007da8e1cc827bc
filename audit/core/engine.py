"""Run the heavy loops on Ray: a session, an ordered streaming map over actors, and a cache of finished shards.

The loops themselves (scrub a chunk, predict a shard) are the same functions the local engine runs; this module only
moves shards to actors and results back, in input order, with a bounded number of shards in flight. See
docs/scale.md.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import EngineConfig
from .errors import BadInputError, GovauditError
from .io import atomic_path, atomic_write_text

__all__ = ["Cached", "ShardCache", "ray_session", "worker_count", "ordered_map", "ModelMap", "split_rows",
           "predict_proba_ray", "FAULT_ENV", "ShardFault"]

FAULT_ENV = "GOVAUDIT_FAULT_AFTER_SHARDS"  # tests: stop a job after this many computed shards


@contextlib.contextmanager
def ray_session(config: EngineConfig) -> Iterator[Any]:
    """The `ray` module, initialised for this command: connect to `config.address` or start a local Ray.

    A Ray started here is shut down on exit; one already running (a notebook, a test fixture) is left alone. Its
    workers run at nice 0 (`RAY_worker_niceness`, unless set), so they compete with other jobs as the local engine does.
    """
    try:
        import ray
    except ImportError:
        raise BadInputError("engine.kind 'ray' needs Ray, which is not installed", where="engine.kind",
                            fix="pip install 'govaudit[ray]' (ray[data]==2.60.0), or set engine.kind: local") from None
    started = False
    if not ray.is_initialized():
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports leave the machine
        if not config.address:  # a local Ray's workers run at the local engine's priority, not Ray's default nice 15
            os.environ.setdefault("RAY_worker_niceness", "0")
        try:
            ray.init(address=config.address, num_cpus=None if config.address else config.num_cpus,
                     include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        except (ConnectionError, RuntimeError, ValueError) as err:
            first = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
            raise BadInputError(f"cannot start or reach Ray: {first}", where="engine.address",
                                fix="check the cluster address (`ray status` on the head node) or unset engine.address "
                                    "to start a local Ray") from None
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def worker_count(ray: Any, config: EngineConfig) -> int:
    """Actors per loop: `engine.workers`, else as many as the cluster's CPUs allow at `cpus_per_worker` each."""
    if config.workers:
        return config.workers
    cpus = float(ray.cluster_resources().get("CPU", 1))
    return max(1, int(cpus // config.cpus_per_worker))


class ShardFault:
    """Tests' kill switch: a Ctrl-C (exit 130) after `GOVAUDIT_FAULT_AFTER_SHARDS` freshly computed shards."""

    def __init__(self) -> None:
        self.limit = int(os.environ.get(FAULT_ENV, "0") or 0)
        self.computed = 0

    def shard_done(self) -> None:
        """Count one computed (not reused) shard; stop the job once the limit is reached."""
        self.computed += 1
        if self.limit and self.computed >= self.limit:
            raise KeyboardInterrupt(f"{FAULT_ENV}: stopped after {self.computed} shard(s)")


@dataclass(frozen=True)
class Cached:
    """An item whose result is already known (a shard finished by an earlier run): passed through in order."""

    value: Any


def ordered_map(actors: list[Any], call: Callable[[Any, Any], Any], items: Iterable[Any], *,
                in_flight_per_actor: int = 2) -> Iterator[Any]:
    """Results of `call(actor, item)` (an ObjectRef) for each item, in input order, `Cached` items passed through.

    At most `in_flight_per_actor` shards per actor are outstanding, so memory stays bounded however long `items` is.
    """
    import ray

    idle = deque(actors)
    owner: dict[Any, Any] = {}  # running ObjectRef -> its actor
    queue: deque[Any] = deque()  # in input order: ObjectRefs and Cached
    limit = max(1, len(actors) * in_flight_per_actor)

    def release(refs: list[Any]) -> None:
        for ref in refs:
            if ref in owner:
                idle.append(owner.pop(ref))

    def pop_head() -> Any:
        head = queue.popleft()
        if isinstance(head, Cached):
            return head.value
        release([head])
        try:
            return ray.get(head)
        except ray.exceptions.RayTaskError as err:  # bad input found on an actor: the same error as locally
            if isinstance(getattr(err, "cause", None), GovauditError):
                raise err.cause from None
            raise

    for item in items:
        if isinstance(item, Cached):
            queue.append(item)
        else:
            if not idle:
                done, _ = ray.wait(list(owner), num_returns=1)
                release(done)
            actor = idle.popleft()
            ref = call(actor, item)
            owner[ref] = actor
            queue.append(ref)
        while queue and (len(queue) > limit or isinstance(queue[0], Cached)):
            yield pop_head()
    while queue:
        yield pop_head()


class ShardCache:
    """Finished shards of one job (input + settings fingerprint `key`), kept until the job completes.

    Each shard is a Parquet file plus a JSON of its statistics, written atomically; a killed job leaves the finished
    ones, and a rerun with the same key reuses them. `clear()` removes the folder once the job's output is in place.
    """

    def __init__(self, root: Path, key: str, *, enabled: bool = True) -> None:
        self.folder = root / f".shards-{key[:24]}"
        self.enabled = enabled
        if not enabled:
            shutil.rmtree(self.folder, ignore_errors=True)

    @staticmethod
    def key(*parts: str) -> str:
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()

    def _paths(self, index: int) -> tuple[Path, Path]:
        return self.folder / f"{index:06d}.parquet", self.folder / f"{index:06d}.json"

    def get(self, index: int) -> tuple[Any, dict[str, Any]] | None:
        """(table, stats) of a finished shard, or None."""
        if not self.enabled:
            return None
        data, meta = self._paths(index)
        if not (data.is_file() and meta.is_file()):
            return None
        import pyarrow.parquet as pq

        return pq.read_table(data), json.loads(meta.read_text(encoding="utf-8"))

    def put(self, index: int, table: Any, stats: dict[str, Any]) -> None:
        if not self.enabled:
            return
        import pyarrow.parquet as pq

        self.folder.mkdir(parents=True, exist_ok=True)
        data, meta = self._paths(index)
        with atomic_path(data) as tmp:
            pq.write_table(table, tmp)
        atomic_write_text(meta, json.dumps(stats, sort_keys=True))  # written last: marks the shard finished

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class _ModelActor:
    """Holds one copy of the classifier; runs `function(classifier, *shard, **options)` on the shards sent to it."""

    def __init__(self, model_dir: str, device: str | None) -> None:
        from .console import set_quiet
        from .model_io import load_classifier

        set_quiet(True)
        self.classifier = load_classifier(model_dir, device)

    def run(self, function: Callable[..., Any], shard: tuple[Any, ...], options: dict[str, Any]) -> Any:
        return function(self.classifier, *shard, **options)


class ModelMap:
    """`function(classifier, *shard, **options)` for each shard, on Ray actors that each load the model once.

    Iterating yields the results in shard order as they finish; `Cached` shards pass through without an actor (and
    without starting Ray when every shard is cached). `function` must be importable by the workers (a module-level
    function of an installed package). `workers`: the number of actors, once iteration has started.
    """

    def __init__(self, model_dir: str | Path, function: Callable[..., Any], shards: list[Any], config: EngineConfig,
                 **options: Any) -> None:
        self.model_dir, self.function, self.shards = model_dir, function, shards
        self.config, self.options = config, options
        self.workers = 0

    def __iter__(self) -> Iterator[Any]:
        todo = sum(not isinstance(shard, Cached) for shard in self.shards)
        if todo == 0:
            yield from (shard.value for shard in self.shards)
            return
        with ray_session(self.config) as ray:
            remote = ray.remote(num_cpus=self.config.cpus_per_worker, num_gpus=self.config.gpus_per_worker)(_ModelActor)
            device = "cuda" if self.config.gpus_per_worker > 0 else "cpu"
            self.workers = min(worker_count(ray, self.config), todo)
            actors = [remote.remote(str(self.model_dir), device) for _ in range(self.workers)]
            yield from ordered_map(actors, lambda actor, shard: actor.run.remote(self.function, shard, self.options),
                                   self.shards)


def split_rows(n: int, shard_rows: int) -> list[slice]:
    """Consecutive slices of at most `shard_rows` rows covering `range(n)`."""
    return [slice(i, min(i + shard_rows, n)) for i in range(0, n, max(1, shard_rows))]


def predict_proba_ray(model_dir: str | Path, texts: list[str], config: EngineConfig, *, batch_size: int,
                      max_length: int) -> tuple[np.ndarray, int]:
    """`model_io.predict_proba` over shards of `config.shard_rows` non-empty `texts` on Ray actors.

    Returns the probabilities (rows in input order) and the number of actors used.

    Within a shard the batches are the local ones (length-sorted); across shards the batch composition differs, so
    probabilities agree with the local engine to float rounding (see docs/scale.md), not bit for bit.
    """
    from .model_io import predict_proba

    shards = [(texts[rows],) for rows in split_rows(len(texts), config.shard_rows)]
    mapped = ModelMap(model_dir, predict_proba, shards, config, batch_size=batch_size, max_length=max_length)
    return np.concatenate(list(mapped)), mapped.workers
