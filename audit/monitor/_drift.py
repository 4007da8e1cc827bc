"""Drift and rate statistics on counts (definitions and sources in docs/monitoring.md). Tests come from scipy."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["psi", "chi_square_p", "binned_ks", "wilson", "two_proportion_p", "impact_ratio_ci", "difference_ci",
           "mmd_permutation"]

Z95 = float(stats.norm.ppf(0.975))


def _shares(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, np.float64)
    return (counts + 0.5) / (counts.sum() + 0.5 * counts.size)


def psi(reference: np.ndarray, window: np.ndarray) -> float:
    """Population stability index sum((q - p) * ln(q / p)) on shares smoothed by +0.5 per bin."""
    p, q = _shares(reference), _shares(window)
    return float(np.sum((q - p) * np.log(q / p)))


def chi_square_p(reference: np.ndarray, window: np.ndarray) -> float:
    """p-value of Pearson's chi-square test of homogeneity on the 2 x k table (scipy.stats.chi2_contingency)."""
    table = np.vstack([reference, window]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def binned_ks(reference: np.ndarray, window: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov D on binned counts (max CDF gap at bin edges) and its p-value from
    scipy.stats.kstwo with the effective size n*m/(n+m), as scipy.stats.ks_2samp does asymptotically."""
    n, m = float(np.sum(reference)), float(np.sum(window))
    if n == 0 or m == 0:
        return 0.0, 1.0
    d = float(np.max(np.abs(np.cumsum(reference) / n - np.cumsum(window) / m)))
    en = max(1, round(n * m / (n + m)))
    return d, float(stats.kstwo.sf(d, en))


def wilson(successes: int, n: int) -> tuple[float, float] | None:
    """Wilson score 95% interval of a proportion (Wilson 1927)."""
    if n == 0:
        return None
    p = successes / n
    denom = 1 + Z95 ** 2 / n
    centre = (p + Z95 ** 2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (normal approximation)."""
    if n1 == 0 or n2 == 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs(x1 / n1 - x2 / n2) / se))


def difference_ci(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float] | None:
    """Newcombe's hybrid score 95% interval of x1/n1 - x2/n2 from the two Wilson intervals (Newcombe 1998, method 10)."""
    a, b = wilson(x1, n1), wilson(x2, n2)
    if a is None or b is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    return d - math.sqrt((p1 - a[0]) ** 2 + (b[1] - p2) ** 2), d + math.sqrt((a[1] - p1) ** 2 + (p2 - b[0]) ** 2)


def impact_ratio_ci(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float] | None:
    """Katz log 95% interval of the ratio of proportions (x1/n1)/(x2/n2); +0.5 to every count if one is zero."""
    if n1 == 0 or n2 == 0 or x2 == 0:
        return None
    if x1 == 0:
        x1, n1, x2, n2 = x1 + 0.5, n1 + 0.5, x2 + 0.5, n2 + 0.5
    ratio = (x1 / n1) / (x2 / n2)
    se = math.sqrt(max(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2, 0.0))
    return ratio * math.exp(-Z95 * se), ratio * math.exp(Z95 * se)


def _mmd2(kernel: np.ndarray, n: int) -> float:
    kxx, kyy, kxy = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    m = kernel.shape[0] - n
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.mean())


def mmd_permutation(x: np.ndarray, y: np.ndarray, *, permutations: int = 200, seed: int = 0) -> tuple[float, float]:
    """Unbiased squared MMD with a Gaussian kernel (bandwidth: median pairwise distance; Gretton et al. 2012) and
    its permutation p-value (k + 1) / (permutations + 1)."""
    joint = np.vstack([x, y]).astype(np.float64)
    sq = np.sum(joint ** 2, axis=1)
    dist2 = np.maximum(sq[:, None] + sq[None, :] - 2 * joint @ joint.T, 0.0)
    bandwidth = np.median(dist2[np.triu_indices_from(dist2, 1)]) or 1.0
    kernel = np.exp(-dist2 / bandwidth)
    n = len(x)
    observed = _mmd2(kernel, n)
    rng = np.random.default_rng(seed)
    exceed = 0
    for _ in range(permutations):
        order = rng.permutation(len(joint))
        exceed += _mmd2(kernel[np.ix_(order, order)], n) >= observed
    return observed, (exceed + 1) / (permutations + 1)
