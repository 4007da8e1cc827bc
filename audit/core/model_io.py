"""Load a fine-tuned sequence classifier safely and run batched inference.

Safetensors only, never `trust_remote_code`, offline. Inference sorts texts by length so each batch pads to its
own longest text (dynamic padding), then restores the original order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .console import progress
from .errors import BadInputError

__all__ = ["LoadedClassifier", "load_classifier", "load_pretrained", "predict_proba", "pick_device", "has_native_bf16"]


@dataclass
class LoadedClassifier:
    model: Any
    tokenizer: Any
    labels: list[str]
    path: Path
    device: Any

    @property
    def label_to_index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


def pick_device(prefer: str | None = None) -> Any:
    import torch

    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


@cache
def _cpu_has_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def has_native_bf16(device: Any) -> bool:
    """Whether `device` multiplies bf16 natively: a CUDA GPU with bf16, or a CPU with AVX512-BF16 or AMX (Linux).

    There bf16 autocast is about twice as fast as fp32 for small encoders; elsewhere it is emulated and slower.
    """
    kind = getattr(device, "type", str(device))
    if kind == "cuda":
        import torch

        return bool(torch.cuda.is_bf16_supported())
    return kind == "cpu" and _cpu_has_native_bf16()


def load_classifier(path: str | Path, device: str | None = None) -> LoadedClassifier:
    """Load model + tokenizer from a local directory holding `model.safetensors` and a config with id2label."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = Path(path)
    if not path.is_dir():
        raise BadInputError(f"model directory not found: {path}", fix="train a model first or point to a local HF model directory")
    if not any(path.glob("*.safetensors")):
        raise BadInputError(f"no *.safetensors weights in {path}", fix="govaudit loads safetensors only; re-save the model with safe_serialization=True")
    from transformers import AutoModelForSequenceClassification

    model, tokenizer, labels, target = load_pretrained(path, AutoModelForSequenceClassification, device, "model")
    return LoadedClassifier(model=model, tokenizer=tokenizer, labels=labels, path=path, device=target)


def load_pretrained(path: Path, auto_class: Any, device: str | None, what: str) -> tuple[Any, Any, list[str], Any]:
    """(model in eval mode on its device, tokenizer, labels by id, device) from a local directory: safetensors only,
    no remote code, offline; a load failure is bad input naming `what`."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
        model = auto_class.from_pretrained(path, local_files_only=True, use_safetensors=True, trust_remote_code=False)
    except (OSError, ValueError) as err:
        raise BadInputError(f"cannot load {what}: {str(err).splitlines()[0][:200]}", where=str(path)) from None
    id2label = model.config.id2label
    labels = [str(id2label[i]) for i in range(len(id2label))]
    target = pick_device(device)
    model.to(target).eval()
    return model, tokenizer, labels, target


def predict_proba(classifier: LoadedClassifier, texts: list[str], *, batch_size: int = 64, max_length: int = 128,
                  desc: str = "predict") -> np.ndarray:
    """Class probabilities, shape (n, n_labels), in the order of `texts`."""
    import torch

    n = len(texts)
    probs = np.zeros((n, len(classifier.labels)), dtype=np.float32)
    if n == 0:
        return probs
    order = np.argsort([len(t) for t in texts], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    with torch.inference_mode():
        for idx in progress(batches, total=len(batches), desc=desc, unit="batch"):
            enc = classifier.tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                                       return_tensors="pt").to(classifier.device)
            logits = classifier.model(**enc).logits.float()
            probs[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
    return probs
