"""Groupings (each sensitive feature, and their intersections) over one set of finest cells."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["Grouping", "make_groupings", "JOIN"]

JOIN = " × "


@dataclass(frozen=True)
class Grouping:
    name: str
    features: list[str]
    names: list[str]
    keys: list[tuple[str, ...]]
    fine_to_group: np.ndarray
    unknown: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.names)

    def assignment(self, n_fine: int) -> np.ndarray:
        """(n_fine, n_groups) 0/1 matrix summing fine-cell counts into this grouping's groups."""
        matrix = np.zeros((n_fine, self.n_groups), dtype=np.int64)
        matrix[np.arange(n_fine), self.fine_to_group] = 1
        return matrix


def make_groupings(fine: pd.DataFrame, features: list[str], *, intersections: bool, unknown_group: str) -> list[Grouping]:
    """One grouping per feature, then (if asked) every intersection of two or more features; `fine` holds the
    finest cells' values (one row per `GroupCounts` key)."""
    subsets: list[tuple[str, ...]] = [(f,) for f in features]
    if intersections:
        for size in range(2, len(features) + 1):
            subsets.extend(combinations(features, size))
    out = []
    for subset in subsets:
        sub = fine[list(subset)]
        keys = pd.MultiIndex.from_frame(sub)
        codes, uniques = pd.factorize(keys, sort=True)
        group_keys = [tuple(str(v) for v in u) for u in uniques]
        out.append(Grouping(
            name=JOIN.join(subset), features=list(subset), names=[JOIN.join(k) for k in group_keys], keys=group_keys,
            fine_to_group=codes.astype(np.int64),
            unknown=np.array([unknown_group in k for k in group_keys], dtype=bool)))
    return out
