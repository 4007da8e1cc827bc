"""Atomic training checkpoints: weights (safetensors), optimizer, scheduler, RNG, loop position, best weights.

A checkpoint is a directory written whole or not at all (`audit._io.atomic_dir`); tensors load with
`torch.load(weights_only=True)` and safetensors, never pickle.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audit.core.errors import BadInputError
from audit.core.io import atomic_dir

__all__ = ["LoopState", "save_checkpoint", "load_checkpoint", "check_compatible", "rng_state"]

_STATE, _WEIGHTS, _BEST, _OPTIM, _SCHED, _RNG = ("state.json", "model.safetensors", "best.safetensors", "optimizer.pt",
                                                "scheduler.pt", "rng.pt")


@dataclass
class LoopState:
    """Where the loop is; everything needed to continue besides the tensors."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_macro_f1: float = -1.0
    best_step: int | None = None
    bad_evals: int = 0
    stopped_early: bool = False
    train_time_s: float = 0.0
    samples_seen: int = 0
    loss_sum: float = 0.0
    loss_n: int = 0
    curves: list[dict[str, Any]] = field(default_factory=list)
    compat: dict[str, Any] = field(default_factory=dict)


def rng_state() -> dict[str, Any]:
    """This process's torch RNG state (CPU, and every CUDA device if present)."""
    import torch

    rng = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return rng


def save_checkpoint(directory: Path, state: LoopState, model: Any, optimizer: Any, scheduler: Any,
                    best_weights: dict[str, Any] | None, rng_by_rank: list[dict[str, Any]] | None = None) -> None:
    """Replace `directory` atomically; `rng_by_rank` holds every process's RNG state (several processes)."""
    import torch
    from safetensors.torch import save_file, save_model

    with atomic_dir(directory) as tmp:
        save_model(model, str(tmp / _WEIGHTS))
        if best_weights is not None:
            save_file(best_weights, str(tmp / _BEST))
        torch.save(optimizer.state_dict(), tmp / _OPTIM)
        torch.save(scheduler.state_dict(), tmp / _SCHED)
        torch.save({"ranks": rng_by_rank} if rng_by_rank else rng_state(), tmp / _RNG)
        (tmp / _STATE).write_text(json.dumps(asdict(state), indent=1), encoding="utf-8")


def check_compatible(directory: Path, compat: dict[str, Any]) -> LoopState:
    """Read the checkpoint's loop state and refuse to resume if the labels or training settings changed."""
    path = directory / _STATE
    if not path.is_file():
        raise BadInputError(f"no checkpoint to resume from in {directory}",
                            fix="run without --resume to start training from the beginning")
    state = LoopState(**json.loads(path.read_text(encoding="utf-8")))
    old_labels, new_labels = state.compat.get("labels"), compat.get("labels")
    if old_labels != new_labels:
        raise BadInputError(f"incompatible label set on resume: the checkpoint was trained on {old_labels}, "
                            f"the data now has {new_labels}", where=str(directory),
                            fix="resume with the same data, or train from the beginning without --resume")
    changed = sorted(k for k in set(state.compat) | set(compat) if state.compat.get(k) != compat.get(k))
    if changed:
        raise BadInputError(f"training settings changed since the checkpoint: {', '.join(changed)}", where=str(directory),
                            fix="resume with the same config and data, or train from the beginning without --resume")
    return state


def load_checkpoint(directory: Path, model: Any, optimizer: Any, scheduler: Any, rank: int = 0) -> dict[str, Any] | None:
    """Restore tensors in place (the RNG state of process `rank`); returns the best weights so far (or None)."""
    import torch
    from safetensors.torch import load_file, load_model

    load_model(model, str(directory / _WEIGHTS))
    optimizer.load_state_dict(torch.load(directory / _OPTIM, weights_only=True))
    scheduler.load_state_dict(torch.load(directory / _SCHED, weights_only=True))
    rng = torch.load(directory / _RNG, weights_only=True)
    rng = rng["ranks"][rank] if "ranks" in rng else rng
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    best = directory / _BEST
    return load_file(str(best)) if best.is_file() else None
