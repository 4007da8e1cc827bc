"""Per-document counts of the name swaps and percentile CIs from the shared paired document bootstrap."""
from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from audit.record import Estimate

from ._swaps import NameSwaps

__all__ = ["cell_counts", "estimate", "rate"]


def cell_counts(swaps: NameSwaps, score: Callable[[int], tuple[int, ...] | None],
                width: int) -> tuple[dict[tuple[str, str], int], np.ndarray, np.ndarray]:
    """Cells (family, group; ('', '') = the originals), per-document counts (docs x cells x width) and their bootstrap
    resamples (n_boot x cells x width). `score(k)` gives variant k's counts, or None to leave it out."""
    cells = sorted({(f, g) for _, f, g in swaps.keys})
    index = {c: j for j, c in enumerate(cells)}
    counts = np.zeros((swaps.n_docs, len(cells), width), dtype=np.int64)
    for k, (doc, family, group) in enumerate(swaps.keys):
        scored = score(k)
        if scored is not None:
            counts[doc, index[(family, group)]] += scored
    return index, counts, np.einsum("bd,dck->bck", swaps.weights, counts)


def rate(sums: np.ndarray, column: int, of: int) -> np.ndarray:
    """sums[..., column] / sums[..., of], NaN where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums[..., column] / sums[..., of]


def estimate(value: float, samples: np.ndarray, level: float, note: str = "") -> Estimate:
    """The point value with the percentile interval of its bootstrap samples (NaN samples ignored)."""
    if np.isnan(value):
        return Estimate(value=None, note=note or "undefined")
    alpha = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = (np.nanquantile(samples, [alpha, 1 - alpha]) if samples.size and not np.isnan(samples).all()
                     else (np.nan, np.nan))
    return Estimate(value=float(value), ci_low=None if np.isnan(low) else float(low),
                    ci_high=None if np.isnan(high) else float(high))
