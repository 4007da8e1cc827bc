"""The Ray engine's plumbing: ordered streaming map over actors, cached shards passed through, the shard cache."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from audit.core.engine import Cached, ShardCache, ordered_map


class _Slow:
    """Returns its input after a delay that shrinks with the value, so later items finish first."""

    def work(self, value: int) -> int:
        import time

        time.sleep(0.02 * (5 - value % 5))
        return value * 10


def test_ordered_map_keeps_input_order_and_bounds_work_in_flight(local_ray):
    actors = [local_ray.remote(_Slow).remote() for _ in range(2)]
    submitted: list[int] = []

    def items():
        for i in range(12):
            submitted.append(i)
            yield Cached(-1) if i == 4 else i

    results = []
    for result in ordered_map(actors, lambda a, v: a.work.remote(v), items(), in_flight_per_actor=2):
        results.append(result)
        assert len(submitted) - len(results) <= 2 * 2 + 1  # never more than the bound ahead of the consumer
    assert results == [0, 10, 20, 30, -1, 50, 60, 70, 80, 90, 100, 110]


def test_shard_cache_round_trip_and_clear(tmp_path):
    cache = ShardCache(tmp_path, ShardCache.key("a", "b"))
    assert cache.get(0) is None
    cache.put(0, pa.table({"x": [1, 2]}), {"rows": 2})
    table, stats = cache.get(0)
    assert table.column("x").to_pylist() == [1, 2] and stats == {"rows": 2}
    assert ShardCache(tmp_path, ShardCache.key("a", "c")).get(0) is None  # another input or setting: another cache
    cache.clear()
    assert cache.get(0) is None and not cache.folder.exists()


def test_disabled_cache_keeps_nothing(tmp_path):
    key = ShardCache.key("k")
    ShardCache(tmp_path, key).put(0, pa.table({"x": [1]}), {})
    disabled = ShardCache(tmp_path, key, enabled=False)  # also drops what an earlier run left
    disabled.put(1, pa.table({"x": [1]}), {})
    assert disabled.get(0) is None and disabled.get(1) is None and not disabled.folder.exists()


def test_ray_missing_is_bad_input(monkeypatch):
    import builtins

    from audit.core.config import EngineConfig
    from audit.core.engine import ray_session
    from audit.core.errors import BadInputError

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("no ray")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(BadInputError, match="needs Ray"):
        with ray_session(EngineConfig(kind="ray")):
            pass


def test_local_ray_started_by_govaudit_runs_workers_at_normal_priority():
    """Ray's default nice 15 would make a local `--engine ray` lose to any other job on the machine. In a fresh
    process, since the test session's shared Ray is already running (and `ray_session` leaves it alone)."""
    import os
    import subprocess
    import sys

    script = (
        "import os, ray\n"
        "from audit.core.config import EngineConfig\n"
        "from audit.core.engine import ray_session\n"
        "with ray_session(EngineConfig(kind='ray', num_cpus=1)) as r:\n"
        "    print('nice', r.get(r.remote(lambda: os.nice(0)).remote()))\n"
        "    print('running', r.is_initialized())\n"
        "print('after', ray.is_initialized())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_worker_niceness", "RAY_ADDRESS")}
    root = str(Path(__file__).resolve().parents[3])
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=180, cwd=root)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["nice", "0", "running", "True", "after", "False"]
