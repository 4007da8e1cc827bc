"""Per-window sufficient statistics: integer counts that merge by addition, so windows grow incrementally.

Per-group counts use the shared `audit.core.counts.GroupCounts` (true x predicted per group, as the fairness audit).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from audit.core.counts import GroupCounts
from audit.core.errors import BadInputError

__all__ = ["SCORE_BINS", "LENGTH_EDGES", "GROUP_FIELDS", "GroupStats", "TextCounts", "WindowStats"]

SCORE_BINS = 20  # equal-width bins of the top-class probability on [0, 1]
LENGTH_EDGES = np.array([0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, np.inf])  # characters per text
GROUP_FIELDS = ("n", "selected", "labeled", "actual_pos", "tp", "fp")


@dataclass
class GroupStats:
    """One sensitive feature's per-group counts in a window.

    `labeled`: the shared `GroupCounts` (group x true x predicted label) of the rows whose delayed label has arrived.
    `predicted`: group -> predicted-label counts of every row. A row without its label yet has no confusion cell, so
    these stay a histogram beside `labeled` (as the window keeps `pred_counts` beside `confusion`). `counts` derives
    GROUP_FIELDS for the favorable classes; `actual_pos`/`tp`/`fp` count labeled rows only.
    """

    labeled: GroupCounts
    predicted: dict[str, np.ndarray]
    favorable: tuple[int, ...]

    @classmethod
    def from_codes(cls, feature: str, codes: np.ndarray, names: list[str], pred: np.ndarray, truth: np.ndarray,
                   labels: list[str], favorable: tuple[int, ...]) -> "GroupStats":
        """Counts from rows coded as indices into `names`; `truth` is -1 where the label has not arrived."""
        k, known = len(labels), truth >= 0
        table = np.bincount(codes * k + pred, minlength=len(names) * k).reshape(len(names), k).astype(np.int64)
        labeled = GroupCounts.from_codes(feature, codes[known], names, truth[known], pred[known], labels)
        return cls(labeled, {name: table[i] for i, name in enumerate(names) if table[i].sum()}, tuple(favorable))

    def merge(self, other: "GroupStats") -> "GroupStats":
        if self.favorable != other.favorable:
            raise ValueError("group counts of different favorable classes cannot be merged")
        predicted = {g: c.copy() for g, c in self.predicted.items()}
        for group, counts in other.predicted.items():
            predicted[group] = predicted[group] + counts if group in predicted else counts.copy()
        return GroupStats(self.labeled.merge(other.labeled), predicted, self.favorable)

    @cached_property
    def counts(self) -> dict[str, np.ndarray]:
        """group -> GROUP_FIELDS (n, selected, labeled, actual_pos, tp, fp), derived once."""
        fav = list(self.favorable)
        confusion = dict(zip((key[0] for key in self.labeled.keys), self.labeled.confusion))
        out = {}
        for group, predicted in sorted(self.predicted.items()):
            c = confusion.get(group)
            pos = (0, 0, 0, 0) if c is None else (int(c.sum()), int(c[fav].sum()), int(c[np.ix_(fav, fav)].sum()),
                                                 int(c[:, fav].sum() - c[np.ix_(fav, fav)].sum()))
            out[group] = np.array([predicted.sum(), predicted[fav].sum(), *pos], dtype=np.int64)
        return out

    def get(self, group: str, name: str) -> int:
        return int(self.counts[group][GROUP_FIELDS.index(name)])

    def to_dict(self) -> dict[str, Any]:
        return {"labeled": self.labeled.to_dict(), "favorable": list(self.favorable),
                "predicted": {g: [int(v) for v in c] for g, c in sorted(self.predicted.items())}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GroupStats":
        if "labeled" not in data:
            raise BadInputError("the monitoring store holds per-group counts of an older govaudit version",
                                fix="delete the run's monitoring folder and run `govaudit monitor` on the logs again")
        return cls(GroupCounts.from_dict(data["labeled"]), {g: np.asarray(v, dtype=np.int64)
                                                           for g, v in data["predicted"].items()},
                   tuple(data["favorable"]))


@dataclass
class TextCounts:
    """Text descriptors of a window: no text, only counts."""

    n: int = 0
    length_hist: np.ndarray = field(default_factory=lambda: np.zeros(len(LENGTH_EDGES) - 1, np.int64))
    tokens: int = 0
    oov_tokens: int = 0
    pii_checked: int = 0
    pii_texts: int = 0
    scripts: dict[str, int] = field(default_factory=dict)

    def merge(self, other: "TextCounts") -> "TextCounts":
        scripts = dict(self.scripts)
        for name, count in other.scripts.items():
            scripts[name] = scripts.get(name, 0) + count
        return TextCounts(self.n + other.n, self.length_hist + other.length_hist, self.tokens + other.tokens,
                          self.oov_tokens + other.oov_tokens, self.pii_checked + other.pii_checked,
                          self.pii_texts + other.pii_texts, dict(sorted(scripts.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "length_hist": self.length_hist.tolist(), "tokens": self.tokens,
                "oov_tokens": self.oov_tokens, "pii_checked": self.pii_checked, "pii_texts": self.pii_texts,
                "scripts": dict(sorted(self.scripts.items()))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TextCounts":
        return cls(data["n"], np.asarray(data["length_hist"], np.int64), data["tokens"], data["oov_tokens"],
                   data["pii_checked"], data["pii_texts"], dict(data["scripts"]))


@dataclass
class WindowStats:
    """Everything the monitor keeps about a window (or the reference): counts only, mergeable by `merge`."""

    n_classes: int
    n: int = 0
    first: str | None = None  # earliest / latest timestamp seen (ISO, UTC); None for the reference
    last: str | None = None
    pred_counts: np.ndarray | None = None
    score_hist: np.ndarray | None = None  # None when the logs carry no probabilities
    confusion: np.ndarray | None = None  # true x predicted, rows with a delayed label only
    text: TextCounts | None = None
    groups: dict[str, GroupStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.pred_counts is None:
            self.pred_counts = np.zeros(self.n_classes, np.int64)
        if self.confusion is None:
            self.confusion = np.zeros((self.n_classes, self.n_classes), np.int64)

    @property
    def n_labeled(self) -> int:
        return int(self.confusion.sum())

    def merge(self, other: "WindowStats") -> "WindowStats":
        def add(a: Any, b: Any) -> Any:
            return b if a is None else a if b is None else a + b

        text = other.text if self.text is None else self.text if other.text is None else self.text.merge(other.text)
        groups = dict(self.groups)
        for name, counts in other.groups.items():
            groups[name] = groups[name].merge(counts) if name in groups else counts
        firsts = [t for t in (self.first, other.first) if t]
        lasts = [t for t in (self.last, other.last) if t]
        return WindowStats(self.n_classes, self.n + other.n, min(firsts) if firsts else None,
                           max(lasts) if lasts else None, self.pred_counts + other.pred_counts,
                           add(self.score_hist, other.score_hist), self.confusion + other.confusion, text, groups)

    def to_dict(self) -> dict[str, Any]:
        return {"n_classes": self.n_classes, "n": self.n, "first": self.first, "last": self.last,
                "pred_counts": self.pred_counts.tolist(),
                "score_hist": None if self.score_hist is None else self.score_hist.tolist(),
                "confusion": self.confusion.tolist(), "text": None if self.text is None else self.text.to_dict(),
                "groups": {name: counts.to_dict() for name, counts in sorted(self.groups.items())}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "WindowStats":
        return cls(data["n_classes"], data["n"], data.get("first"), data.get("last"),
                   np.asarray(data["pred_counts"], np.int64),
                   None if data.get("score_hist") is None else np.asarray(data["score_hist"], np.int64),
                   np.asarray(data["confusion"], np.int64).reshape(data["n_classes"], data["n_classes"]),
                   None if data.get("text") is None else TextCounts.from_dict(data["text"]),
                   {name: GroupStats.from_dict(g) for name, g in data.get("groups", {}).items()})
