"""The swap engine: find a family's terms in text (word boundaries, hyphen-aware) and replace them case-preserving."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .terms import TermFamily

__all__ = ["Hit", "Variant", "Swapper", "match_case", "sensitive_spans"]

# A term must not touch a word character or a hyphen on either side: "he" not in "the", "disabled" not in
# "non-disabled"; punctuation and apostrophes after a term are fine ("John's", "Mr.").
_LEFT, _RIGHT = r"(?<![\w-])", r"(?![\w-])"


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    text: str
    group: str
    position: int


@dataclass(frozen=True)
class Variant:
    text: str
    swaps: tuple[str, ...]  # "term -> replacement"
    inserted_group: str  # group every inserted term belongs to, or "mixed"
    inserted_terms: tuple[str, ...]


def match_case(original: str, replacement: str) -> str:
    """Carry the case pattern of `original` over: UPPER, Title, else the replacement's own spelling."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    if original.islower() and replacement[1:].islower():
        return replacement.lower()
    return replacement


def _pattern(terms: list[str], case_sensitive: bool) -> re.Pattern[str]:
    ordered = sorted(set(terms), key=lambda t: (-len(t), t))  # longest first: "Native American" before "American"
    body = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in ordered)
    return re.compile(f"{_LEFT}(?:{body}){_RIGHT}", 0 if case_sensitive else re.IGNORECASE)


class Swapper:
    """Swaps for one family. Two groups: one variant swapping both ways at once (he <-> she); more groups: one
    variant per target group, every term of another group replaced by the term at the same position."""

    def __init__(self, family: TermFamily) -> None:
        self.family = family
        self._key = (lambda t: t) if family.case_sensitive else (lambda t: " ".join(t.lower().split()))
        self._index: dict[str, tuple[str, int]] = {}
        for group, terms in family.groups.items():
            for position, term in enumerate(terms):
                self._index.setdefault(self._key(term), (group, position))
        self._regex = _pattern(family.terms(), family.case_sensitive)

    def find(self, text: str) -> list[Hit]:
        hits = []
        for m in self._regex.finditer(text):
            group, position = self._index[self._key(m.group(0))]
            hits.append(Hit(m.start(), m.end(), m.group(0), group, position))
        return hits

    def _apply(self, text: str, hits: list[Hit], target_of) -> Variant | None:
        pieces, swaps, inserted, groups, last = [], [], [], set(), 0
        for hit in hits:
            target = target_of(hit)
            if target is None:
                continue
            replacement = self.family.groups[target][hit.position]
            if self._key(replacement) == self._key(hit.text):
                continue
            new = match_case(hit.text, replacement)
            pieces += [text[last:hit.start], new]
            last = hit.end
            swaps.append(f"{hit.text} -> {new}")
            inserted.append(replacement)
            groups.add(target)
        if not swaps:
            return None
        pieces.append(text[last:])
        return Variant("".join(pieces), tuple(swaps), groups.pop() if len(groups) == 1 else "mixed", tuple(inserted))

    def variants(self, text: str, hits: list[Hit] | None = None) -> list[Variant]:
        hits = self.find(text) if hits is None else hits
        if not hits or not self.family.swappable:
            return []
        names = list(self.family.groups)
        if len(names) == 2:
            other = {names[0]: names[1], names[1]: names[0]}
            variant = self._apply(text, hits, lambda h: other[h.group])
            return [variant] if variant else []
        out = []
        for target in names:
            variant = self._apply(text, hits, lambda h, t=target: t if h.group != t else None)
            if variant:
                out.append(variant)
        return out

    def fill(self, template: str, group: str, position: int) -> str:
        return template.replace("{term}", self.family.slot_terms()[group][position])


def sensitive_spans(text: str, swappers: list[Swapper]) -> list[tuple[int, int]]:
    """Character spans of every identity term of the given families in `text` (used for attribution reliance)."""
    return sorted((h.start, h.end) for s in swappers for h in s.find(text))
