"""Seeded bootstrap estimates for the probes: resampling whole clusters (one example and all its variants)."""
from __future__ import annotations

import numpy as np

from audit.record import Estimate

__all__ = ["bootstrap_mean"]


def bootstrap_mean(values: np.ndarray, *, clusters: np.ndarray | None = None, weights: np.ndarray | None = None,
                   n_boot: int = 200, seed: int = 13, level: float = 0.95) -> Estimate:
    """(Weighted) mean with a percentile bootstrap CI; clusters are resampled whole (pairs of one example together)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return Estimate(note="no examples")
    weights = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    point = float(np.average(values, weights=weights))
    if n_boot == 0 or values.size < 2:
        return Estimate(value=point, note=None if values.size >= 2 else "one example: no interval")
    ids = np.arange(values.size) if clusters is None else np.unique(np.asarray(clusters), return_inverse=True)[1]
    n_clusters = int(ids.max()) + 1
    sum_vw = np.bincount(ids, weights=values * weights, minlength=n_clusters)
    sum_w = np.bincount(ids, weights=weights, minlength=n_clusters)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    counts = np.stack([np.bincount(row, minlength=n_clusters) for row in draws])
    denominators = counts @ sum_w
    stats = (counts @ sum_vw)[denominators > 0] / denominators[denominators > 0]
    alpha = (1 - level) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return Estimate(value=point, ci_low=float(low), ci_high=float(high))
