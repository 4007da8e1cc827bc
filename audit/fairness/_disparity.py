"""Disparities between groups: ranges and ratios, comparisons with a fixed reference group, LL144 impact ratios, the
four-fifths test and the one-person flip.

All functions take arrays whose last axis is the group (leading axes are bootstrap resamples). Two masks: `reference`
marks groups that may be the impact ratio's reference (known, share >= 2%: LL144), `eligible` the groups that also
get a verdict and enter the range disparities (additionally at least `min_group_size` rows).
"""
from __future__ import annotations

import numpy as np

__all__ = ["FOUR_FIFTHS", "DISPARITIES", "group_range", "disparities", "versus_reference", "reference_index",
           "four_fifths", "one_person_flip"]

FOUR_FIFTHS = 0.8
DISPARITIES = ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
               "equal_opportunity_difference", "false_positive_rate_difference")
_EPS = 1e-12


def _masked(values: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    return np.where(eligible, values, np.nan)


def group_range(values: np.ndarray, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(max, min, number of defined values) over eligible groups; NaN-safe without warnings."""
    v = _masked(values, eligible)
    return np.fmax.reduce(v, axis=-1), np.fmin.reduce(v, axis=-1), (~np.isnan(v)).sum(axis=-1)


def disparities(rates: dict[str, np.ndarray], eligible: np.ndarray) -> dict[str, np.ndarray]:
    """DP difference/ratio (selection rates), equalized-odds difference (max of TPR and FPR ranges), equal-opportunity
    difference (TPR range), FPR range: fairlearn's `between_groups` definitions, over eligible groups with defined
    values. All are unsigned ranges (max - min), so they are never below 0."""
    sr_hi, sr_lo, sr_n = group_range(rates["selection_rate"], eligible)
    tpr_hi, tpr_lo, tpr_n = group_range(rates["tpr"], eligible)
    fpr_hi, fpr_lo, fpr_n = group_range(rates["fpr"], eligible)
    nan = np.nan
    dp_diff = np.where(sr_n >= 2, sr_hi - sr_lo, nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        dp_ratio = np.where((sr_n >= 2) & (sr_hi > 0), sr_lo / np.where(sr_hi > 0, sr_hi, 1), nan)
    tpr_diff = np.where(tpr_n >= 2, tpr_hi - tpr_lo, nan)
    fpr_diff = np.where(fpr_n >= 2, fpr_hi - fpr_lo, nan)
    return {"demographic_parity_difference": dp_diff, "demographic_parity_ratio": dp_ratio,
            "equalized_odds_difference": np.maximum(tpr_diff, fpr_diff),  # NaN if either is undefined
            "equal_opportunity_difference": tpr_diff, "false_positive_rate_difference": fpr_diff}


def versus_reference(values: np.ndarray, ref: int) -> tuple[np.ndarray, np.ndarray]:
    """Signed difference and ratio of each group's value to the reference group's (a fixed index, chosen on the full
    sample, so every resample compares with the same group); the ratio is NaN where the reference value is 0."""
    base = values[..., ref:ref + 1]
    ratio = np.full(np.broadcast(values, base).shape, np.nan)
    np.divide(values, base, out=ratio, where=base > 0)
    return values - base, ratio


def reference_index(selection_rate: np.ndarray, reference: np.ndarray) -> int | None:
    """The group with the highest selection rate among those allowed as reference (LL144's 'most selected')."""
    v = _masked(selection_rate, reference)
    if np.isnan(v).all():
        return None
    return int(np.nanargmax(v))


def four_fifths(selected: np.ndarray, counts: np.ndarray, reference: np.ndarray,
                eligible: np.ndarray | None = None) -> np.ndarray:
    """Per group: 1 pass, 0 fail (impact ratio below 4/5), -1 no verdict (not eligible, or reference rate 0);
    `eligible` defaults to `reference`."""
    eligible = reference if eligible is None else eligible
    rate = np.divide(selected, counts, out=np.full(len(counts), np.nan), where=counts > 0)
    ref = reference_index(rate, reference)
    if ref is None:
        return np.full(len(counts), -1)
    _, ratio = versus_reference(rate, ref)
    verdict = np.where(ratio >= FOUR_FIFTHS - _EPS, 1, 0)
    return np.where(eligible & ~np.isnan(ratio), verdict, -1)


def one_person_flip(selected: np.ndarray, counts: np.ndarray, reference: np.ndarray,
                    eligible: np.ndarray | None = None) -> np.ndarray:
    """Per eligible group: would one decision more or fewer, in any group that can be the reference or is judged,
    change this group's four-fifths verdict? The UGESP Q&A (No. 21) treats such a result as not meaningful."""
    eligible = reference if eligible is None else eligible
    base = four_fifths(selected, counts, reference, eligible)
    flips = np.zeros(len(counts), dtype=bool)
    for h in np.flatnonzero(reference | eligible):
        for delta in (1, -1):
            moved = selected.copy()
            moved[h] += delta
            if 0 <= moved[h] <= counts[h]:
                verdict = four_fifths(moved, counts, reference, eligible)
                flips |= (verdict != base) & (base >= 0) & (verdict >= 0)
    return flips
