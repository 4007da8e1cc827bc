"""Tests of 'any disparity' from group counts, and multiple-comparison corrections.

- Across a grouping: a permutation test of independence between group and decision (null: the rate is the same in
  every group). Permuting the group labels of the rows keeps each group's size and the total of selected rows, so
  each group's selected count follows the multivariate hypergeometric distribution: it is drawn directly from the
  counts (`Generator.multivariate_hypergeometric`), no rows needed. Statistic: Pearson's chi-square of the 2 x G
  table; p = (1 + #{T* >= T}) / (1 + n_perm), the Monte Carlo version of the exact conditional (Fisher-Freeman-Halton
  type) test. Equalized odds permutes within true positives and true negatives separately and adds the statistics.
- Per group: Fisher's exact test (two-sided, as scipy.stats.fisher_exact, vectorised over the support) of the group
  against the rest of the tested groups: a slice-vs-rest comparison that does not depend on which group is the
  reference.
- Corrections: Holm (1979) controls the family-wise error under any dependence; Benjamini-Hochberg (1995) the false
  discovery rate (valid under positive dependence, e.g. a feature and its intersections).
"""
from __future__ import annotations

import numpy as np

__all__ = ["chi_square", "permutation_pvalue", "fisher_two_sided", "fisher_vs_rest", "adjust"]

_REL_TOL = 1e-9


def chi_square(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Pearson chi-square of the 2 x G table (selected / not by group); last axis = group; 0 if nobody or everybody
    is selected."""
    successes, trials = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    n = trials.sum(axis=-1, keepdims=True)
    p = successes.sum(axis=-1, keepdims=True) / np.where(n > 0, n, 1)
    var = trials * p * (1 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(var > 0, (successes - trials * p) ** 2 / np.where(var > 0, var, 1), 0.0)
    return terms.sum(axis=-1)


def permutation_pvalue(strata: list[tuple[np.ndarray, np.ndarray]], n_perm: int,
                       rng: np.random.Generator) -> tuple[float, float]:
    """(statistic, p-value): sum over strata of the chi-square, each stratum's successes permuted across groups."""
    observed = sum(float(chi_square(s, t)) for s, t in strata)
    null = np.zeros(n_perm)
    for s, t in strata:
        total = int(np.sum(s))
        draws = rng.multivariate_hypergeometric(np.asarray(t, dtype=np.int64), total, size=n_perm)
        null += chi_square(draws, t)
    exceed = int(np.sum(null >= observed * (1 - _REL_TOL) - 1e-12))
    return observed, (1 + exceed) / (1 + n_perm)


def _log_choose(n: np.ndarray | int, k: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(np.asarray(n) + 1.0) - gammaln(k + 1.0) - gammaln(np.asarray(n) - k + 1.0)


def fisher_two_sided(x: int, n: int, successes: int, population: int) -> float:
    """Two-sided Fisher exact p-value of `x` selected among `n` drawn from `population` rows of which `successes`
    are selected: the hypergeometric probability of every table at most as likely as the observed one (the rule of
    scipy.stats.fisher_exact, with the same relative tolerance 1e-7).

    The sum runs over the support within 40 standard deviations of the mean (so memory does not grow with the rows);
    the tables left out each have probability below exp(-800), which is 0 in double precision."""
    low, high = max(0, n - (population - successes)), min(n, successes)
    mean = n * successes / population
    var = n * successes * (population - successes) * (population - n) / (population ** 2 * max(population - 1, 1))
    reach = 40 * np.sqrt(var) + 2
    start, stop = max(low, int(np.floor(mean - reach))), min(high, int(np.ceil(mean + reach)))

    def log_pmf(k: np.ndarray) -> np.ndarray:
        return (_log_choose(successes, k) + _log_choose(population - successes, n - k)
                - _log_choose(population, np.asarray(float(n))))

    observed = float(log_pmf(np.asarray(float(x))))
    if not start <= x <= stop:
        return float(np.exp(observed))  # far in a tail: every table at most as likely is negligible
    values = log_pmf(np.arange(start, stop + 1, dtype=float))
    return float(min(1.0, np.exp(values[values <= observed + np.log1p(1e-7)]).sum()))


def fisher_vs_rest(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Per group: two-sided Fisher exact p-value of its rate against the pooled rest; NaN if either side is empty."""
    s_all, n_all = int(np.sum(successes)), int(np.sum(trials))
    out = np.full(len(trials), np.nan)
    for i, (s, n) in enumerate(zip(np.asarray(successes).tolist(), np.asarray(trials).tolist())):
        if n == 0 or n == n_all:
            continue
        out[i] = fisher_two_sided(int(s), int(n), s_all, n_all)
    return out


def adjust(p_values: np.ndarray, method: str) -> np.ndarray:
    """Holm step-down or Benjamini-Hochberg step-up adjusted p-values; NaN entries are left out of the family."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = len(idx)
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adjusted = np.minimum.accumulate((m / np.arange(m, 0, -1) * ranked[::-1]))[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}")
    out[order] = np.minimum(adjusted, 1.0)
    return out
