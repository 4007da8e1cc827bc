"""The model's window: which characters of a text the classifier sees (the first `max_length` tokens), and moving
the window so that it starts a little before an identity term that lies beyond it."""
from __future__ import annotations

from typing import Any

__all__ = ["Window"]


class Window:
    """Character limits of the model's input window, from the tokenizer's offsets (cached per text)."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer, self.max_length = tokenizer, max_length
        self._limits: dict[str, int] = {}

    def _offsets(self, texts: list[str], truncate: bool) -> list[list[tuple[int, int]]]:
        enc = self.tokenizer(texts, truncation=truncate, max_length=self.max_length if truncate else None,
                             return_offsets_mapping=True, add_special_tokens=True)
        return [[tuple(o) for o in offsets if o[1] > o[0]] for offsets in enc["offset_mapping"]]

    def limits(self, texts: list[str]) -> list[int]:
        """Index one past the last character inside the window, per text (len(text) when nothing is cut)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._limits]
        if todo:
            for text, offsets in zip(todo, self._offsets(todo, truncate=True)):
                end = max((e for _, e in offsets), default=0)
                self._limits[text] = len(text) if not text[end:].strip() else end
        return [self._limits[t] for t in texts]

    def move(self, text: str, start: int) -> str:
        """`text` from a word boundary about a quarter window before character `start`, so `start` is inside."""
        offsets = self._offsets([text], truncate=False)[0]
        token = next((i for i, (s, e) in enumerate(offsets) if e > start), len(offsets) - 1)
        first = max(0, token - self.max_length // 4)
        cut = offsets[first][0] if offsets else 0
        while 0 < cut < len(text) and not text[cut - 1].isspace():
            cut -= 1
        return text[cut:]
