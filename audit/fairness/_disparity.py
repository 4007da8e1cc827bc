"""Disparities between groups: ranges and ratios, LL144 impact ratios, the four-fifths test and the one-person flip.

All functions take arrays whose last axis is the group (leading axes are bootstrap resamples) and an `eligible`
mask: groups that are small or unknown are reported but never the reference and never in a verdict.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FOUR_FIFTHS", "DISPARITIES", "group_range", "disparities", "impact_ratios", "reference_index",
           "four_fifths", "one_person_flip"]

FOUR_FIFTHS = 0.8
DISPARITIES = ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
               "equal_opportunity_difference")
_EPS = 1e-12


def _masked(values: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    return np.where(eligible, values, np.nan)


def group_range(values: np.ndarray, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(max, min, number of defined values) over eligible groups; NaN-safe without warnings."""
    v = _masked(values, eligible)
    return np.fmax.reduce(v, axis=-1), np.fmin.reduce(v, axis=-1), (~np.isnan(v)).sum(axis=-1)


def disparities(rates: dict[str, np.ndarray], eligible: np.ndarray) -> dict[str, np.ndarray]:
    """DP difference/ratio (selection rates), equalized-odds difference (max of TPR and FPR ranges), equal-opportunity
    difference (TPR range): fairlearn's `between_groups` definitions, over eligible groups with defined values."""
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
            "equal_opportunity_difference": tpr_diff}


def impact_ratios(selection_rate: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """LL144 impact ratio: each group's selection rate / the highest eligible group's rate (NaN if that is 0)."""
    top = np.fmax.reduce(_masked(selection_rate, eligible), axis=-1)[..., None]
    out = np.full(np.broadcast(selection_rate, top).shape, np.nan)
    np.divide(selection_rate, top, out=out, where=top > 0)
    return out


def reference_index(selection_rate: np.ndarray, eligible: np.ndarray) -> int | None:
    v = _masked(selection_rate, eligible)
    if np.isnan(v).all():
        return None
    return int(np.nanargmax(v))


def four_fifths(selected: np.ndarray, counts: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Per group: 1 pass, 0 fail (impact ratio below 4/5), -1 no verdict (ineligible or reference rate 0)."""
    rate = np.divide(selected, counts, out=np.full(len(counts), np.nan), where=counts > 0)
    ratio = impact_ratios(rate, eligible)
    verdict = np.where(ratio >= FOUR_FIFTHS - _EPS, 1, 0)
    return np.where(eligible & ~np.isnan(ratio), verdict, -1)


def one_person_flip(selected: np.ndarray, counts: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Per eligible group: would one decision more or fewer, in any eligible group (the reference included), change
    this group's four-fifths verdict? The UGESP Q&A (No. 21) treats such a result as not meaningful."""
    base = four_fifths(selected, counts, eligible)
    flips = np.zeros(len(counts), dtype=bool)
    for h in np.flatnonzero(eligible):
        for delta in (1, -1):
            moved = selected.copy()
            moved[h] += delta
            if 0 <= moved[h] <= counts[h]:
                verdict = four_fifths(moved, counts, eligible)
                flips |= (verdict != base) & (base >= 0) & (verdict >= 0)
    return flips
