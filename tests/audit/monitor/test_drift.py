"""The drift statistics against scipy and textbook values."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from audit.monitor import (binned_ks, chi_square_p, difference_ci, impact_ratio_ci, mmd_permutation, psi, two_proportion_p,
                           wilson)


def test_psi_is_zero_for_equal_shares_and_grows_with_shift():
    assert psi(np.array([100, 200, 300]), np.array([10, 20, 30])) == pytest.approx(0, abs=0.01)
    assert psi(np.array([50, 50]), np.array([80, 20])) > 0.25


def test_chi_square_matches_scipy():
    ref, win = np.array([300, 500, 200]), np.array([40, 40, 20])
    assert chi_square_p(ref, win) == pytest.approx(stats.chi2_contingency(np.vstack([ref, win]), correction=False).pvalue)
    assert chi_square_p(np.array([5, 0]), np.array([7, 0])) == 1.0


def test_binned_ks_equals_scipy_on_data_with_values_at_bin_edges():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 10, 800), rng.integers(0, 10, 300) + (rng.random(300) < 0.3)
    d, p = binned_ks(np.bincount(x, minlength=12), np.bincount(y, minlength=12))
    ref = stats.ks_2samp(x, y, method="asymp")
    assert d == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue, rel=0.05)


def test_wilson_and_two_proportion():
    low, high = wilson(40, 100)
    assert (low, high) == pytest.approx((0.3094, 0.4980), abs=1e-3)  # Wilson 1927 / Newcombe 1998 table values
    assert two_proportion_p(50, 100, 50, 100) == 1.0 and two_proportion_p(20, 100, 50, 100) < 1e-4


def test_impact_ratio_interval_covers_the_ratio():
    low, high = impact_ratio_ci(30, 100, 50, 100)
    assert low < 0.6 < high < 1.0
    low, high = impact_ratio_ci(0, 50, 20, 50)  # Haldane +0.5: ratio 0.024
    assert 0 < low < 0.05 < high < 0.5


def test_mmd_permutation_separates_shifted_samples():
    rng = np.random.default_rng(1)
    same = mmd_permutation(rng.normal(size=(60, 4)), rng.normal(size=(60, 4)), permutations=99)
    shifted = mmd_permutation(rng.normal(size=(60, 4)), rng.normal(1.0, size=(60, 4)), permutations=99)
    assert same[1] > 0.05 and shifted[1] == pytest.approx(0.01)


def test_difference_interval_matches_newcombe_1998():
    low, high = difference_ci(56, 70, 48, 80)  # Newcombe (1998) Table II, first example, method 10: 0.0524 to 0.3339
    assert low == pytest.approx(0.0524, abs=5e-4) and high == pytest.approx(0.3339, abs=5e-4)
    assert difference_ci(0, 10, 0, 0) is None
