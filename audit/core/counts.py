"""`GroupCounts`: per-(finest group, true label, predicted label) row counts, the sufficient statistics of the audit.

Every group metric, disparity, bootstrap interval and test of the fairness section is a function of these counts,
so they can be computed per shard (a chunk of a file, a monitoring window, a Ray task) and added: the sum of the
shards' counts is the count of the whole table, and the audit of the sum equals the audit of the concatenated rows.
Shared by the fairness audit (`audit/fairness`, which re-exports it) and monitoring (`audit/monitor`, per window).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["GroupCounts"]


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes and their text values; missing values become the text 'nan' (as `astype(str)` gives)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64), [str(u) for u in uniques]


@dataclass(frozen=True)
class GroupCounts:
    """Row counts per finest group (one combination of every sensitive feature's value) and confusion cell.

    `confusion[i, t, p]`: rows of group `keys[i]` with true label `labels[t]` and predicted label `labels[p]`.
    For score outcomes (LL144 scoring rate) `above[i, t, p]` counts those of them whose score is above `threshold`.
    Keys are sorted; merging two counts with the same features, labels and threshold adds them cell by cell.
    """

    features: tuple[str, ...]
    labels: tuple[str, ...]
    keys: tuple[tuple[str, ...], ...]
    confusion: np.ndarray
    above: np.ndarray | None = None
    threshold: float | None = None

    def __post_init__(self) -> None:
        k = len(self.labels)
        if self.confusion.shape != (len(self.keys), k, k):
            raise ValueError(f"confusion has shape {self.confusion.shape}, expected {(len(self.keys), k, k)}")
        if (self.above is None) != (self.threshold is None):
            raise ValueError("`above` and `threshold` go together (score outcomes) or are both absent")
        if self.above is not None and self.above.shape != self.confusion.shape:
            raise ValueError("`above` must have the shape of `confusion`")

    @classmethod
    def from_arrays(cls, sensitive: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], *,
                    score: np.ndarray | None = None, threshold: float | None = None) -> "GroupCounts":
        """Count one table: label indices `y_true`/`y_pred` (ints in [0, len(labels))), sensitive columns as text.

        With `score` and `threshold` (score outcomes) also counts the rows with `score > threshold`."""
        k = len(labels)
        y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
        if len(y_true) != len(sensitive) or len(y_pred) != len(sensitive):
            raise ValueError("y_true, y_pred and sensitive must have the same number of rows")
        combined = np.zeros(len(sensitive), dtype=np.int64)
        uniques: list[list[str]] = []
        for column in sensitive.columns:
            codes, values = _codes(sensitive[column])
            combined = combined * len(values) + codes
            uniques.append(values)
        present, inverse = np.unique(combined, return_inverse=True)
        keys = []
        for code in present.tolist():
            parts = []
            for values in reversed(uniques):
                code, rest = divmod(code, len(values))
                parts.append(values[rest])
            keys.append(tuple(reversed(parts)))
        cell = (inverse.astype(np.int64) * k + y_true) * k + y_pred
        size = len(keys) * k * k
        confusion = np.bincount(cell, minlength=size).reshape(len(keys), k, k)
        above = None
        if score is not None:
            if threshold is None:
                raise ValueError("a score needs its threshold")
            above = np.bincount(cell[np.asarray(score) > threshold], minlength=size).reshape(len(keys), k, k)
        return cls._sorted(tuple(sensitive.columns), tuple(labels), keys, confusion, above, threshold)

    @classmethod
    def from_codes(cls, feature: str, codes: np.ndarray, names: list[str], y_true: np.ndarray, y_pred: np.ndarray,
                   labels: list[str]) -> "GroupCounts":
        """Count rows of one feature already coded as indices into `names` (label indices as in `from_arrays`);
        groups without rows are left out."""
        k, g = len(labels), len(names)
        cell = (np.asarray(codes, dtype=np.int64) * k + np.asarray(y_true, dtype=np.int64)) * k + np.asarray(y_pred)
        confusion = np.bincount(cell, minlength=g * k * k).reshape(g, k, k)
        present = np.flatnonzero(confusion.reshape(g, -1).sum(axis=1))
        return cls._sorted((feature,), tuple(labels), [(names[i],) for i in present], confusion[present], None, None)

    @classmethod
    def _sorted(cls, features: tuple[str, ...], labels: tuple[str, ...], keys: list[tuple[str, ...]],
                confusion: np.ndarray, above: np.ndarray | None, threshold: float | None) -> "GroupCounts":
        order = sorted(range(len(keys)), key=lambda i: keys[i])
        return cls(features, labels, tuple(keys[i] for i in order), confusion[order].astype(np.int64),
                   None if above is None else above[order].astype(np.int64), threshold)

    @property
    def n(self) -> int:
        return int(self.confusion.sum())

    def merge(self, other: "GroupCounts") -> "GroupCounts":
        """The counts of both tables together (same features, labels and score threshold required)."""
        if (self.features, self.labels, self.threshold) != (other.features, other.labels, other.threshold):
            raise ValueError("counts of different features, labels or score thresholds cannot be merged")
        keys = sorted(set(self.keys) | set(other.keys))
        index = {key: i for i, key in enumerate(keys)}
        k = len(self.labels)
        confusion = np.zeros((len(keys), k, k), dtype=np.int64)
        above = None if self.above is None else np.zeros_like(confusion)
        for part in (self, other):
            rows = [index[key] for key in part.keys]
            confusion[rows] += part.confusion
            if above is not None:
                above[rows] += part.above
        return GroupCounts(self.features, self.labels, tuple(keys), confusion, above, self.threshold)

    __add__ = merge

    @classmethod
    def total(cls, parts: Iterable["GroupCounts"]) -> "GroupCounts":
        """Sum of several shards' counts (at least one)."""
        iterator = iter(parts)
        try:
            out = next(iterator)
        except StopIteration:
            raise ValueError("no counts to add") from None
        for part in iterator:
            out = out + part
        return out

    def states(self) -> np.ndarray:
        """(n_keys, n_states) counts; state = true*K + pred, and for score outcomes (true*K + pred)*2 + above."""
        flat = self.confusion.reshape(len(self.keys), -1)
        if self.above is None:
            return flat
        up = self.above.reshape(len(self.keys), -1)
        return np.stack([flat - up, up], axis=-1).reshape(len(self.keys), -1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for monitoring windows or shipping between workers)."""
        return {"features": list(self.features), "labels": list(self.labels), "keys": [list(k) for k in self.keys],
                "confusion": self.confusion.tolist(), "above": None if self.above is None else self.above.tolist(),
                "threshold": self.threshold}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GroupCounts":
        k = len(data["labels"])
        shape = (len(data["keys"]), k, k)
        confusion = np.asarray(data["confusion"], dtype=np.int64).reshape(shape)
        above = None if data.get("above") is None else np.asarray(data["above"], dtype=np.int64).reshape(shape)
        return cls(tuple(data["features"]), tuple(data["labels"]), tuple(tuple(k) for k in data["keys"]), confusion,
                   above, data.get("threshold"))
