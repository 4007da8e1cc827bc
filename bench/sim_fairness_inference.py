"""Simulation: coverage, level and power of the fairness section's disparity inference on known truth.

    PYTHONPATH=. .venv/bin/python bench/sim_fairness_inference.py [--sims 500] [--n 300]

Fresh seeds (not those of the tests). Two groups of --n rows each with selection probabilities p_a, p_b:
- coverage: share of runs whose 95% bootstrap interval of the non-reference group's signed difference (ratio)
  contains 0 (1) when p_a = p_b, and whose interval of the old range statistic (DP difference) contains 0;
- level / power: share of runs where the permutation test of 'any disparity' has p < 0.05; 'expected' is the power
  of the asymptotic two-proportion z-test, Phi(|d| / se - 1.96). The permutation test conditions on the margins
  like Fisher's exact test, so on discrete counts it is conservative (level under 0.05) and a few points less
  powerful than the asymptotic test;
- family-wise error: sex (2) x race (3), 4 * --n rows, no bias; share of runs where any Holm-adjusted p < 0.05 over
  the three groupings (sex, race, sex x race).
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.stats import norm

from audit.core.config import FairnessConfig
from audit.fairness import group_audit

LABELS = ["no", "yes"]


def _config(seed: int, **kw) -> FairnessConfig:
    return FairnessConfig(favorable_label="yes", min_group_size=1, min_group_share=0.0, seed=seed, **kw)


def _two(rng, n, pa, pb):
    groups = np.repeat(["a", "b"], n)
    y_pred = (rng.random(2 * n) < np.where(groups == "a", pa, pb)).astype(int)
    return rng.integers(0, 2, 2 * n), y_pred, pd.DataFrame({"g": groups})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sims", type=int, default=500)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(90210)
    print(f"| scenario (n={args.n} per group, {args.sims} runs, 2,000 resamples/permutations) | measured | "
          "nominal / asymptotic |")
    print("|---|---|---|")
    for pb in (0.40, 0.45, 0.50, 0.55):
        diff_cov = ratio_cov = range_cov = rejected = 0
        for i in range(args.sims):
            y_true, y_pred, sensitive = _two(rng, args.n, 0.40, pb)
            grouping = group_audit(y_true, y_pred, LABELS, sensitive, _config(1000 + i)).groupings[0]
            other = next(g for g in grouping.groups if g.group != grouping.reference_group)
            d, r = other.differences["selection_rate"], other.ratios["selection_rate"]
            rng_ci = grouping.disparities["demographic_parity_difference"]
            diff_cov += d.ci_low <= 0 <= d.ci_high
            ratio_cov += r.ci_low <= 1 <= r.ci_high
            range_cov += rng_ci.ci_low <= 0 <= rng_ci.ci_high
            rejected += grouping.tests["selection_rate"].p_value < 0.05
        se = np.sqrt(0.4 * 0.6 / args.n + pb * (1 - pb) / args.n)
        predicted = norm.cdf(abs(pb - 0.40) / se - 1.96) + norm.cdf(-abs(pb - 0.40) / se - 1.96)
        if pb == 0.40:
            print(f"| no bias: signed-difference CI contains 0 | {diff_cov / args.sims:.3f} | 0.95 |")
            print(f"| no bias: ratio CI contains 1 | {ratio_cov / args.sims:.3f} | 0.95 |")
            print(f"| no bias: range (DP difference) CI contains 0 | {range_cov / args.sims:.3f} | "
                  "(never, by design) |")
            print(f"| no bias: test p < 0.05 (level) | {rejected / args.sims:.3f} | 0.05 |")
        else:
            print(f"| 0.40 vs {pb:.2f}: test p < 0.05 (power) | {rejected / args.sims:.3f} | {predicted:.3f} |")
    alarms = 0
    for i in range(args.sims):
        n = 4 * args.n
        sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "race": rng.choice(["p", "q", "r"], n)})
        audit = group_audit(rng.integers(0, 2, n), (rng.random(n) < 0.35).astype(int), LABELS, sensitive,
                            _config(5000 + i, n_boot=0))
        alarms += any(g.tests["selection_rate"].p_adjusted < 0.05 for g in audit.groupings)
    print(f"| no bias, 3 groupings: any Holm-adjusted p < 0.05 (family-wise error) | {alarms / args.sims:.3f} | "
          "<= 0.05 |")


if __name__ == "__main__":
    main()
