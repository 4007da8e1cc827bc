"""Text descriptors computed in memory (the text is dropped right after): length, out-of-vocabulary tokens against
the training texts' token counts, PII found by a caller-supplied detector, and the dominant Unicode script."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._stats import LENGTH_EDGES, TextCounts

__all__ = ["PiiDetector", "Tokenize", "TextDescriber", "dominant_script", "SCRIPTS"]

PiiDetector = Callable[[list[str]], Sequence[bool]]  # True where a text holds at least one PII entity
Tokenize = Callable[[list[str]], list[list[int]]]  # token ids per text, no special tokens

SCRIPTS = {  # Unicode blocks (https://www.unicode.org/charts/), letters only
    "latin": r"A-Za-z\u00C0-\u024F\u1E00-\u1EFF",
    "cyrillic": r"\u0400-\u04FF\u0500-\u052F",
    "greek": r"\u0370-\u03FF",
    "arabic": r"\u0600-\u06FF\u0750-\u077F",
    "hebrew": r"\u0590-\u05FF",
    "devanagari": r"\u0900-\u097F",
    "cjk": r"\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uAC00-\uD7AF",
}
_SCRIPT_RE = {name: re.compile(f"[{chars}]") for name, chars in SCRIPTS.items()}


def dominant_script(text: str) -> str:
    """The script with most letters in `text` ('none' if it has no letter of a listed script)."""
    if text.isascii():
        return "latin" if any(c.isalpha() for c in text) else "none"
    counts = {name: len(pattern.findall(text)) for name, pattern in _SCRIPT_RE.items()}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else "none"


@dataclass
class TextDescriber:
    """`seen[i]` is True when token id i occurs in the training texts; `unk_id` counts as out of vocabulary."""

    tokenize: Tokenize
    seen: np.ndarray
    unk_id: int | None = None
    pii: PiiDetector | None = None

    @classmethod
    def from_training(cls, tokenize: Tokenize, texts: Sequence[str], vocab_size: int, *, unk_id: int | None = None,
                      pii: PiiDetector | None = None, batch: int = 2048) -> "TextDescriber":
        seen = np.zeros(vocab_size, bool)
        for start in range(0, len(texts), batch):
            ids = [i for row in tokenize(list(texts[start:start + batch])) for i in row]
            if ids:
                seen[np.asarray(ids, np.int64)] = True
        if unk_id is not None:
            seen[unk_id] = False
        return cls(tokenize, seen, unk_id, pii)

    def describe(self, texts: list[str]) -> TextCounts:
        lengths = np.fromiter((len(t) for t in texts), np.int64, len(texts))
        hist = np.histogram(lengths, bins=LENGTH_EDGES)[0].astype(np.int64)
        rows = self.tokenize(texts)
        ids = np.fromiter((i for row in rows for i in row), np.int64)
        inside = ids < len(self.seen)
        oov = int((~inside).sum() + (~self.seen[ids[inside]]).sum())
        pii_texts = int(np.sum(np.asarray(self.pii(texts), bool))) if self.pii is not None else 0
        scripts = Counter(dominant_script(t) for t in texts)
        return TextCounts(len(texts), hist, int(ids.size), oov, len(texts) if self.pii is not None else 0, pii_texts,
                          dict(sorted(scripts.items())))
