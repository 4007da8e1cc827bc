"""`fit_loop` on several local processes (torch.distributed: gloo on CPU, one GPU per process on CUDA).

The parent spawns `train.processes` workers with Accelerate's environment contract (RANK, LOCAL_RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT), each runs the same `fit_loop` on its slice of every step's batches, and rank 0 hands the
trained weights (safetensors) and the loop's state back through a temporary folder. An exception in a worker is
raised again in the parent as the same kind (bad input, Ctrl-C, the kill test hook).
"""
from __future__ import annotations

import json
import os
import socket
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from audit.core.errors import BadInputError
from audit.record import ClassificationMetrics

from ._checkpoints import LoopState
from ._loop import FitResult, _SimulatedKill, fit_loop

__all__ = ["fit_in_processes"]

_ERRORS: dict[str, type[BaseException]] = {"BadInputError": BadInputError, "KeyboardInterrupt": KeyboardInterrupt,
                                           "_SimulatedKill": _SimulatedKill}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker(rank: int, world: int, port: int, out: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    import torch

    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    try:
        result = fit_loop(*args, **kwargs)
    except BaseException as err:  # reported to the parent, which raises it again
        if rank == 0 or type(err).__name__ in _ERRORS:
            Path(out, f"error-{rank}.json").write_text(json.dumps(
                {"type": type(err).__name__, "message": str(err)}), encoding="utf-8")
        raise SystemExit(1) from None
    if rank == 0:
        from safetensors.torch import save_model

        save_model(result.model, str(Path(out, "model.safetensors")))
        payload = {"state": asdict(result.state), "total_steps": result.total_steps,
                   "steps_per_epoch": result.steps_per_epoch, "resumed_from_step": result.resumed_from_step,
                   "hardware": result.hardware,
                   "validation": result.validation.model_dump(mode="json") if result.validation else None}
        Path(out, "result.json").write_text(json.dumps(payload), encoding="utf-8")


def _raise_worker_error(out: Path) -> None:
    for path in sorted(out.glob("error-*.json")):
        error = json.loads(path.read_text(encoding="utf-8"))
        kind = _ERRORS.get(error["type"])
        if kind is BadInputError:
            raise BadInputError(error["message"])
        if kind is not None:
            raise kind(error["message"])
        raise RuntimeError(f"a training process failed: {error['type']}: {error['message']}")
    raise RuntimeError("a training process died without reporting an error (out of memory?)")


def fit_in_processes(processes: int, model: Any, train_ids: list[list[int]], train_y: np.ndarray,
                     val_ids: list[list[int]], val_y: np.ndarray, labels: list[str], cfg: Any,
                     **kwargs: Any) -> FitResult:
    """`fit_loop(...)` on `processes` workers; returns rank 0's result with its weights loaded into `model`."""
    import torch.multiprocessing as mp
    from safetensors.torch import load_model

    args = (model, train_ids, train_y, val_ids, val_y, labels, cfg)
    with tempfile.TemporaryDirectory(prefix="govaudit-train-") as tmp:
        context = mp.start_processes(_worker, args=(processes, _free_port(), tmp, args, kwargs), nprocs=processes,
                                     start_method="spawn", join=False)
        interrupted = False
        while True:
            try:
                if context.join():
                    break
            except KeyboardInterrupt:  # the workers got the same SIGINT: let them checkpoint and stop
                interrupted = True
            except (mp.ProcessExitedException, mp.ProcessRaisedException):
                _raise_worker_error(Path(tmp))
        if interrupted:
            raise KeyboardInterrupt("training interrupted; checkpoint saved")
        load_model(model, str(Path(tmp, "model.safetensors")))
        payload = json.loads(Path(tmp, "result.json").read_text(encoding="utf-8"))
    validation = payload["validation"]
    return FitResult(model=model, state=LoopState(**payload["state"]), total_steps=payload["total_steps"],
                     steps_per_epoch=payload["steps_per_epoch"],
                     validation=ClassificationMetrics.model_validate(validation) if validation else None,
                     resumed_from_step=payload["resumed_from_step"], hardware=payload["hardware"])
