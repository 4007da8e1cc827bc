"""Embedding drift: per window, the embeddings of its first `sample` texts (the model's own encoder, passed in as a
function), kept as float16 arrays under `monitoring/embeddings/`; compared with the held-out texts' by MMD."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from audit.core.io import atomic_path

from ._drift import mmd_permutation

__all__ = ["Embed", "EMBED_DIR", "sample_path", "load_sample", "save_sample", "embedding_drift", "MIN_SAMPLE"]

Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, d) float array
EMBED_DIR = "monitoring/embeddings"
MIN_SAMPLE = 20  # fewer embeddings in a window (or the reference): no test


def sample_path(run_dir: Path, name: str | int) -> Path:
    return run_dir / EMBED_DIR / f"{name}.npy"


def load_sample(path: Path) -> np.ndarray | None:
    return np.load(path) if path.is_file() else None


def save_sample(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, array.astype(np.float16))


def embedding_drift(reference: np.ndarray | None, sample: np.ndarray | None, *, seed: int,
                    permutations: int = 200) -> tuple[float, float] | None:
    if reference is None or sample is None or min(len(reference), len(sample)) < MIN_SAMPLE:
        return None
    return mmd_permutation(reference.astype(np.float64), sample.astype(np.float64), permutations=permutations, seed=seed)
