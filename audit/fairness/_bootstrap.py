"""Vectorised, seeded bootstrap of group confusion counts.

Every group metric and disparity is a function of the counts of rows per (finest group, state) cell. Resampling the
n rows with replacement gives cell counts distributed Multinomial(n, observed cell shares), so one
`Generator.multinomial` call draws all resamples at once: the same distribution as fairlearn's row bootstrap
(`MetricFrame(n_boot=...)`, which recomputes the whole frame per resample), at a tiny fraction of the cost.
One joint draw serves every grouping, outcome and metric, so their intervals come from the same resamples.
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["bootstrap_counts", "percentile_ci"]


def bootstrap_counts(counts: np.ndarray, n_boot: int, rng: np.random.Generator | int) -> np.ndarray:
    """(n_boot, *counts.shape) resampled cell counts; deterministic for a given seed."""
    flat = counts.ravel().astype(np.int64)
    n = int(flat.sum())
    rng = np.random.default_rng(rng)
    draws = rng.multinomial(n, flat / n, size=n_boot)
    return draws.reshape(n_boot, *counts.shape)


def percentile_ci(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 ignoring undefined (NaN) resamples; also the share of NaN resamples."""
    alpha = (1.0 - level) / 2.0
    undefined = np.isnan(samples).mean(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(samples, [alpha, 1.0 - alpha], axis=0)
    return low, high, undefined
