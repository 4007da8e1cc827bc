"""The fine-tuning loop on `accelerate.Accelerator`: the same code on CPU, one GPU, or many (`accelerate launch`).

Dynamic padding over length-grouped batches, bf16/fp16 autocast where the device supports it, class-weighted loss,
gradient clipping, linear warm-up/decay, fused AdamW (CPU and CUDA), validation macro-F1 with early stopping (best weights
restored at the end), atomic checkpoints every N steps and on Ctrl-C, and exact resume. Token classification uses the
same loop: per-token targets (ignored positions -100), and a `validate` callback that scores entities.
"""
from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audit.core.config import TrainConfig
from audit.core.console import is_quiet
from audit.core.errors import BadInputError
from audit.core.model_io import has_native_bf16
from audit.record.metrics import classification_metrics

from ._checkpoints import LoopState, check_compatible, load_checkpoint, rng_state, save_checkpoint
from ._data import IGNORE, Collator, length_grouped_batches

__all__ = ["FitResult", "fit_loop", "predict", "FAULT_ENV"]

# Test hook: "interrupt@K" acts like Ctrl-C after step K, "kill@K" like a killed process (no final checkpoint).
FAULT_ENV = "GOVAUDIT_TRAIN_FAULT"
_LOG_EVERY = 10  # steps between device syncs for the loss shown in the progress bar


class _SimulatedKill(BaseException):
    """Raised by the kill@K test hook; like SIGKILL it skips the Ctrl-C checkpoint."""


@dataclass
class FitResult:
    model: Any
    state: LoopState
    total_steps: int
    steps_per_epoch: int
    validation: Any  # ClassificationMetrics, or what `validate` returned (token classification)
    resumed_from_step: int | None
    hardware: dict[str, str] = field(default_factory=dict)

    @property
    def samples_per_s(self) -> float:
        return self.state.samples_seen / self.state.train_time_s if self.state.train_time_s else 0.0


def _flat_targets(train_y: Any) -> np.ndarray:
    """All class targets of the training rows (token classification: every scored token)."""
    if len(train_y) and isinstance(train_y[0], (list, tuple)):
        flat = np.fromiter((t for row in train_y for t in row), dtype=np.int64)
        return flat[flat != IGNORE]
    return np.asarray(train_y, dtype=np.int64)


def _mixed_precision(choice: str, cuda: bool) -> str:
    """Accelerate's mixed_precision for `train.precision`; 'auto' = bf16 where the device multiplies bf16 natively
    (on such CPUs about 2x fp32 for MiniLM), fp16 on older GPUs, else fp32."""
    if choice == "auto":
        if not cuda:
            return "bf16" if has_native_bf16("cpu") else "no"
        return "bf16" if has_native_bf16("cuda") else "fp16"
    if choice == "fp16" and not cuda:
        raise BadInputError("fp16 needs a CUDA device", where="train.precision", fix="use auto, fp32 or bf16 on CPU")
    return {"fp32": "no"}.get(choice, choice)


def _hardware(accelerator: Any, mixed_precision: str) -> dict[str, str]:
    import torch

    device = accelerator.device
    info = {"device": str(device), "num_processes": str(accelerator.num_processes), "mixed_precision": mixed_precision,
            "cpu_count": str(os.cpu_count()), "torch_threads": str(torch.get_num_threads())}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _optimizer(model: Any, cfg: TrainConfig) -> Any:
    import torch

    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim < 2 else decay).append(param)  # no decay on biases and LayerNorm weights
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, fused=True)  # fused kernels on CPU and CUDA alike


def predict(model: Any, ids: list[list[int]], pad_id: int, batch_size: int, device: Any, autocast: Any) -> np.ndarray:
    """Class probabilities for pre-tokenised rows, batched shortest-first with dynamic padding."""
    import torch

    n = len(ids)
    order = np.argsort([len(s) for s in ids], kind="stable")
    collate = Collator(ids, None, pad_id)
    out: np.ndarray | None = None
    was_training = model.training
    model.eval()
    with torch.inference_mode(), autocast():
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            batch = {k: v.to(device, non_blocking=True) for k, v in collate(rows).items()}
            probs = torch.softmax(model(**batch).logits.float(), dim=-1).cpu().numpy()
            if out is None:
                out = np.zeros((n, probs.shape[1]), dtype=np.float32)
            out[rows] = probs
    model.train(was_training)
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


class _StopRequest:
    """SIGINT sets a flag checked between steps, so the checkpoint is of a finished step; a second Ctrl-C kills."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> "_StopRequest":
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _any_rank(accelerator: Any, flag: bool) -> bool:
    """True on every process if `flag` is true on any (one small all-reduce)."""
    import torch

    value = torch.tensor([int(flag)], device=accelerator.device)
    return bool(accelerator.reduce(value, reduction="sum").item())


def _fault_hook() -> tuple[str, int] | None:
    raw = os.environ.get(FAULT_ENV, "")
    if "@" not in raw:
        return None
    kind, _, step = raw.partition("@")
    return kind, int(step)


def fit_loop(model: Any, train_ids: list[list[int]], train_y: np.ndarray, val_ids: list[list[int]], val_y: np.ndarray,
             labels: list[str], cfg: TrainConfig, *, pad_id: int, checkpoint_dir: Path | None = None,
             resume: bool = False, compat: dict[str, Any] | None = None, device: str | None = None,
             restore_best: bool = True,
             validate: Callable[[Any, Any, Any], tuple[float, Any]] | None = None) -> FitResult:
    """Train `model` in place; returns it with the best-validation weights loaded (the final ones if not `restore_best`).

    `train_y` holds a class index per row, or (token classification) a list of per-token targets per row with
    -100 where no loss is taken. `validate(model, device, autocast)` returns (score, metrics), the score selecting
    the best weights; by default it is the validation macro-F1 of the class probabilities.
    """
    import torch
    import torch.nn.functional as F
    from accelerate import Accelerator
    from accelerate.utils import gather_object, set_seed
    from sklearn.utils.class_weight import compute_class_weight
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    cpu = device == "cpu" or (device is None and not torch.cuda.is_available())
    mixed = _mixed_precision(cfg.precision, cuda=not cpu)
    accelerator = Accelerator(cpu=cpu, mixed_precision=mixed)
    set_seed(cfg.seed)
    world, rank = accelerator.num_processes, accelerator.process_index
    lengths = np.array([len(s) for s in train_ids])
    n_batches = math.ceil(len(train_ids) / cfg.batch_size)
    steps_per_epoch = max(1, n_batches // world)
    total_steps = max(1, math.ceil(cfg.epochs_for(len(train_ids)) * steps_per_epoch))
    eval_every = cfg.eval_every_steps or steps_per_epoch

    n_labels = len(labels)
    weights = None
    flat_y = _flat_targets(train_y)
    if cfg.class_weights:
        present = np.unique(flat_y)
        balanced = compute_class_weight("balanced", classes=present, y=flat_y)
        full = np.ones(n_labels, dtype=np.float32)
        full[present] = balanced
        weights = torch.tensor(full, dtype=torch.float32, device=accelerator.device)

    optimizer = _optimizer(model, cfg)
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(cfg.warmup_ratio * total_steps), total_steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    unwrapped = accelerator.unwrap_model(model)

    state = LoopState(compat=dict(compat or {}, total_steps=total_steps, world=world))
    best_weights: dict[str, Any] | None = None
    resumed_from = None
    last_dir = checkpoint_dir / "last" if checkpoint_dir else None
    if resume:
        if last_dir is None:
            raise BadInputError("--resume needs a run with a checkpoint")
        state = check_compatible(last_dir, state.compat)
        best_weights = load_checkpoint(last_dir, unwrapped, optimizer, scheduler, rank)
        resumed_from = state.step

    def snapshot() -> dict[str, Any]:
        return {k: v.detach().to("cpu", copy=True) for k, v in unwrapped.state_dict().items()}

    def checkpoint() -> None:
        rng_by_rank = gather_object([rng_state()]) if world > 1 else None  # each process resumes its own dropout
        if last_dir is not None and accelerator.is_main_process:
            save_checkpoint(last_dir, state, unwrapped, optimizer, scheduler, best_weights, rng_by_rank)
        accelerator.wait_for_everyone()

    def evaluate() -> Any:
        if validate is not None:
            return validate(unwrapped, accelerator.device, accelerator.autocast)
        proba = predict(unwrapped, val_ids, pad_id, cfg.eval_batch_size, accelerator.device, accelerator.autocast)
        metrics = classification_metrics(val_y, proba, labels)
        return metrics.macro_f1, metrics

    ragged = len(train_y) > 0 and isinstance(train_y[0], (list, tuple))
    collator = Collator(train_ids, list(train_y) if ragged else np.asarray(train_y, dtype=np.int64), pad_id)
    fault = _fault_hook()
    bar = tqdm(total=total_steps, initial=state.step, desc="train", unit="step", file=sys.stderr, mininterval=1.0,
               disable=is_quiet() or not accelerator.is_main_process)
    validation: Any = None
    pending: list[Any] = []  # per-step losses still on the device: read in one sync, not one per step
    clock = [time.perf_counter()]

    def flush() -> None:
        """Sync the device once, fold pending losses into the state, add the elapsed training time."""
        values = torch.stack(pending).float().cpu().tolist() if pending else []
        pending.clear()
        for value in values:
            state.loss_sum, state.loss_n = state.loss_sum + value, state.loss_n + 1
        state.train_time_s += time.perf_counter() - clock[0]
        clock[0] = time.perf_counter()
        if values:
            bar.set_postfix(loss=f"{values[-1]:.4f}", samples_s=f"{state.samples_seen / state.train_time_s:.1f}",
                            refresh=False)

    model.train()
    with _StopRequest() as stop:
        while state.step < total_steps and not state.stopped_early:
            batches = length_grouped_batches(lengths, cfg.batch_size, cfg.seed, state.epoch)
            for rows in batches[rank::world][:steps_per_epoch][state.batch_in_epoch :]:
                batch = collator(rows)
                if not cpu:
                    batch = {k: v.pin_memory() for k, v in batch.items()}
                batch = {k: v.to(accelerator.device, non_blocking=True) for k, v in batch.items()}
                target = batch.pop("labels")
                logits = model(**batch).logits
                loss = F.cross_entropy(logits.float().flatten(0, -2), target.flatten(), weight=weights,
                                       ignore_index=IGNORE)
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                pending.append(loss.detach())
                state.step += 1
                state.batch_in_epoch += 1
                state.samples_seen += len(rows) * world
                bar.update(1)
                end_of_epoch = state.batch_in_epoch >= steps_per_epoch
                done = state.step >= total_steps
                evaluate_now = state.step % eval_every == 0 or end_of_epoch or done
                checkpoint_now = not done and state.step % cfg.checkpoint_every_steps == 0
                if state.step % _LOG_EVERY == 0 or evaluate_now or checkpoint_now or stop.requested:
                    flush()
                if evaluate_now:
                    score, validation = evaluate()
                    state.curves.append({"step": state.step, "epoch": state.epoch + state.batch_in_epoch / steps_per_epoch,
                                         "train_loss": state.loss_sum / max(state.loss_n, 1),
                                         "val_macro_f1": score, "learning_rate": scheduler.get_last_lr()[0]})
                    state.loss_sum, state.loss_n = 0.0, 0
                    if score > state.best_macro_f1:
                        state.best_macro_f1, state.best_step, state.bad_evals = score, state.step, 0
                        best_weights = snapshot()
                    else:
                        state.bad_evals += 1
                        if cfg.early_stopping_patience and state.bad_evals >= cfg.early_stopping_patience:
                            state.stopped_early = True
                if end_of_epoch:
                    state.epoch, state.batch_in_epoch = state.epoch + 1, 0
                done = done or state.stopped_early
                if checkpoint_now and not done:
                    checkpoint()
                if fault and fault[1] == state.step:
                    if fault[0] == "kill":
                        raise _SimulatedKill(f"simulated kill after step {state.step}")
                    stop.requested = True
                if world > 1:  # every rank stops at the same step, or the next collective would hang
                    stop.requested = _any_rank(accelerator, stop.requested)
                if stop.requested and not done:
                    flush()
                    checkpoint()
                    bar.close()
                    raise KeyboardInterrupt(f"interrupted after step {state.step}; checkpoint saved")
                if evaluate_now or checkpoint_now:
                    clock[0] = time.perf_counter()  # validation and checkpoint time is not training time
                if done or end_of_epoch:
                    break
    bar.close()
    if restore_best and best_weights is not None:
        unwrapped.load_state_dict(best_weights)
        if state.best_step != state.step:
            validation = evaluate()[1]
    return FitResult(model=unwrapped, state=state, total_steps=total_steps, steps_per_epoch=steps_per_epoch,
                     validation=validation, resumed_from_step=resumed_from, hardware=_hardware(accelerator, mixed))
