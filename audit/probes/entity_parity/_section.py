"""Entity-recall parity: the share of swapped names still found as a person, per group, and its ratio per family."""
from __future__ import annotations

import warnings

import numpy as np

from audit.record import EntityParitySection, NameFamilyParity, NameGroupRecall

from ._stats import cell_counts, estimate, rate
from ._swaps import NameSwaps

__all__ = ["entity_parity_section"]


def _found(tags: list[str], first: int, last: int, entity: str) -> tuple[bool, bool]:
    """(partial, strict): some word of the name is tagged `entity`; the name is exactly one B- I-* entity."""
    window = tags[first:last]
    partial = any(t.partition("-")[2] == entity for t in window)
    strict = (bool(window) and window[0] == f"B-{entity}" and all(t == f"I-{entity}" for t in window[1:])
              and (last >= len(tags) or tags[last] != f"I-{entity}"))
    return partial, strict


def entity_parity_section(swaps: NameSwaps, n_boot: int, level: float, seed: int) -> EntityParitySection:
    """Recall (partial and strict) per group, lowest / highest ratio and gap per family, from one pass of swaps."""
    def score(k: int) -> tuple[int, int, int]:
        partial, strict = _found(swaps.tags[k], *swaps.windows[k], swaps.entity)
        return int(partial), int(strict), 1

    index, counts, boot = cell_counts(swaps, score, 3)  # found partial, found strict, swaps
    total = counts.sum(axis=0)
    point_p, boot_p = rate(total, 0, 2), rate(boot, 0, 2)
    point_s, boot_s = rate(total, 1, 2), rate(boot, 1, 2)
    out_families = []
    for family in swaps.families:
        cols = [index[(family.name, g)] for g in family.groups]
        groups = [NameGroupRecall(group=g, names=min(len(n), swaps.names_per_group), spans=int(total[c, 2]),
                                  recall=estimate(point_p[c], boot_p[:, c], level),
                                  exact_recall=estimate(point_s[c], boot_s[:, c], level))
                  for (g, n), c in zip(family.groups.items(), cols)]
        values = point_p[cols]
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            ratio = values.min() / values.max() if values.max() > 0 else np.nan
            boot_ratio = boot_p[:, cols].min(axis=1) / boot_p[:, cols].max(axis=1)
            boot_ratio[~np.isfinite(boot_ratio)] = np.nan
        out_families.append(NameFamilyParity(
            family=family.name, groups=groups, lowest_group=list(family.groups)[int(values.argmin())],
            highest_group=list(family.groups)[int(values.argmax())],
            recall_ratio=estimate(ratio, boot_ratio, level, "no swapped name was found in any group"),
            recall_gap=estimate(values.max() - values.min(), boot_p[:, cols].max(axis=1) - boot_p[:, cols].min(axis=1),
                                level)))
    original = index[("", "")]
    return EntityParitySection(entity=swaps.entity, n_docs=swaps.n_docs, names_source=swaps.sources,
                               families=out_families, original_recall=estimate(point_p[original], boot_p[:, original],
                                                                               level),
                               n_boot=n_boot, ci_level=level, seed=seed)
