"""The swap engine: find a family's terms in text (word boundaries, hyphen-aware, stop phrases, ambiguous words) and
replace them case-preserving, keeping grammatical form (Muslims -> Jews), pronoun case (her -> him/his, from the
spaCy tag) and a/an agreement."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .terms import TermFamily

__all__ = ["Hit", "Variant", "Swapper", "match_case", "identity_case", "sensitive_spans", "article_for", "pool_family"]

# A term must not touch a word character or a hyphen on either side: "he" not in "the", "disabled" not in
# "non-disabled"; punctuation and apostrophes after a term are fine ("John's", "Mr."). With `hyphenated`, a hyphen
# may join a term to another word ("anti-Christian", "Muslim-owned").
_LEFT, _RIGHT = r"(?<![\w-])", r"(?![\w-])"
_LEFT_HYPHEN, _RIGHT_HYPHEN = r"(?<!\w)", r"(?!\w)"
_ARTICLE = re.compile(r"(?<![\w-])(a|an)(\s+)$", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*)[\"'(\[]?$")
_NEXT_WORD = re.compile(r"\s+([A-Za-z]+)")
# spaCy fine-grained tag -> the counterpart that has the right case: "her" as a possessive (PRP$) is "his", as an
# object (PRP) "him".
_PRONOUN_CASE = {"PRP$": {"his", "her", "their", "hers"}, "PRP": {"him", "her", "them", "he", "she"}}
_NOUN_TAGS = {"NN", "NNS", "NNP", "NNPS"}
_MODIFIER_DEPS = {"amod", "compound", "nmod", "npadvmod"}


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    text: str
    group: str
    position: int
    candidates: tuple[int, ...] = ()  # every position of the group this surface form has (her: his/her, him/her)


@dataclass(frozen=True)
class Variant:
    text: str
    swaps: tuple[str, ...]  # "term -> replacement"
    inserted_group: str  # group every inserted term belongs to, or "mixed"
    inserted_terms: tuple[str, ...]
    spans: tuple[tuple[int, int], ...] = ()  # character spans of the replacements in `text`
    original_spans: tuple[tuple[int, int], ...] = ()  # the replaced terms in the original text
    original_group: str = "mixed"  # group of every replaced term, or "mixed"
    replaced_terms: tuple[str, ...] = field(default=())


def match_case(original: str, replacement: str) -> str:
    """Carry the case pattern of `original` over: UPPER, Title, else the replacement's own spelling."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    if original.islower() and replacement[1:].islower():
        return replacement.lower()
    return replacement


def identity_case(original: str, replacement: str, sentence_start: bool) -> str:
    """Case for identity terms: UPPER stays upper, a sentence start is capitalised, else the replacement's own
    spelling ("he is gay" -> "he is Jewish", "a Muslim man" -> "a gay man")."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if sentence_start and original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def article_for(word: str) -> str:
    """'an' before a vowel sound, else 'a' (spelling rules: an hour, a European, an LGBT, a user)."""
    if len(word) > 1 and word[:2].isupper():
        return "an" if word[0] in "AEFHILMNORSX" else "a"
    low = word.lower()
    if low.startswith(("hour", "honest", "heir", "honor", "honour")):
        return "an"
    if low.startswith(("eu", "uni", "use", "usu", "uti", "one", "once")):
        return "a"
    return "an" if low[:1] in "aeiou" else "a"


def _pattern(terms: list[str], case_sensitive: bool, hyphenated: bool) -> re.Pattern[str]:
    ordered = sorted(set(terms), key=lambda t: (-len(t), t))  # longest first: "Native American" before "American"
    body = "|".join(re.escape(t).replace(r"\ ", r"\s+").replace(r"\-", r"[-\s]") for t in ordered)
    left, right = (_LEFT_HYPHEN, _RIGHT_HYPHEN) if hyphenated else (_LEFT, _RIGHT)
    return re.compile(f"{left}(?:{body}){right}", 0 if case_sensitive else re.IGNORECASE)


def _phrases(phrases: tuple[str, ...], flags: int) -> re.Pattern[str] | None:
    if not phrases:
        return None
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(set(phrases), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", flags)


class Swapper:
    """Swaps for one family. Two groups: one variant swapping both ways at once (he <-> she); more groups: one
    variant per target group, every term of another group replaced by the term at the same position (form families:
    the target's first term of the same form; a target without that form gives no variant)."""

    def __init__(self, family: TermFamily, *, hyphenated: bool = False, stop_phrases: tuple[str, ...] = (),
                 stop_names: tuple[str, ...] = (), person_nouns: tuple[str, ...] = ()) -> None:
        self.family = family
        fold = (lambda t: t) if family.case_sensitive else str.lower
        self._key = lambda t: " ".join(fold(t).replace("-", " ").split())
        self._index: dict[str, tuple[str, int]] = {}
        self._positions: dict[tuple[str, str], list[int]] = {}
        for group, terms in family.groups.items():
            for position, term in enumerate(terms):
                self._index.setdefault(self._key(term), (group, position))
                self._positions.setdefault((group, self._key(term)), []).append(position)
        self._regex = _pattern(family.terms(), family.case_sensitive, hyphenated)
        self._stops = [p for p in (_phrases(stop_phrases, re.IGNORECASE), _phrases(stop_names, 0)) if p]
        self._person_nouns = frozenset(n.lower() for n in person_nouns)

    def _ambiguous_miss(self, text: str, m: re.Match[str]) -> bool:
        """An ambiguous term ("black", "straight") counts when capitalised inside a sentence ("a Black man"), as a
        capitalised plural ("Blacks"), or right before a person noun ("black kids"); else ("black car", "Straight up",
        "WHITE") it is no identity term."""
        word = m.group(0)
        if word.lower() not in self.family.ambiguous:
            return False
        if word[:1].isupper() and not word.isupper():
            group, position = self._index[self._key(word)]
            plural = bool(self.family.forms) and self.family.forms[group][position] == "plural"
            if plural or _SENTENCE_START.search(text[:m.start()]) is None:  # "Blacks never ..." counts too
                return False
        nxt = _NEXT_WORD.match(text, m.end())
        return nxt is None or nxt.group(1).lower() not in self._person_nouns

    def find(self, text: str, limit: int | None = None) -> list[Hit]:
        """Hits in `text[:limit]` (the model's window), minus stop phrases and ambiguous words out of context."""
        stopped = [s.span() for p in self._stops for s in p.finditer(text)]
        hits = []
        for m in self._regex.finditer(text):
            if limit is not None and m.end() > limit:
                break
            if any(a < m.end() and m.start() < b for a, b in stopped) or self._ambiguous_miss(text, m):
                continue
            key = self._key(m.group(0))
            group, position = self._index[key]
            hits.append(Hit(m.start(), m.end(), m.group(0), group, position, tuple(self._positions[(group, key)])))
        return hits

    def needs_tags(self, hits: list[Hit]) -> bool:
        """Whether a hit's form or pronoun case depends on its part of speech (her; Muslim as noun or adjective)."""
        return any(len(self._forms_of(h)) > 1 for h in hits)

    def _forms_of(self, hit: Hit) -> set[str]:
        if self.family.forms:
            return {self.family.forms[hit.group][p] for p in hit.candidates}
        return set(hit.candidates) if len(hit.candidates) > 1 else set()

    def _position(self, hit: Hit, target: str, tag: tuple[str, str] | None) -> int | None:
        """Position in `target` that replaces `hit`, or None when the target has no term of the hit's form."""
        forms = self.family.forms
        if forms:
            form = forms[hit.group][hit.position]
            if tag is not None and len(self._forms_of(hit)) > 1:
                noun = tag[0] in _NOUN_TAGS and tag[1] not in _MODIFIER_DEPS
                preferred = ("noun", "plural") if noun else ("adj",)
                form = next((f for f in preferred if f in self._forms_of(hit)), form)
            return next((i for i, f in enumerate(forms[target]) if f == form), None)
        if tag is not None and len(hit.candidates) > 1 and tag[0] in _PRONOUN_CASE:
            wanted = _PRONOUN_CASE[tag[0]]
            for position in hit.candidates:
                if self.family.groups[target][position].lower() in wanted:
                    return position
        return hit.position

    def _apply(self, text: str, hits: list[Hit], target_of, tags: dict[int, tuple[str, str]]) -> Variant | None:
        pieces, swaps, inserted, replaced, groups, from_groups = [], [], [], [], set(), set()
        spans, original_spans, last, length = [], [], 0, 0
        for hit in hits:
            target = target_of(hit)
            if target is None:
                continue
            position = self._position(hit, target, tags.get(hit.start))
            if position is None:
                return None
            replacement = self.family.groups[target][position]
            if self._key(replacement) == self._key(hit.text):
                continue
            if self.family.forms:
                new = identity_case(hit.text, replacement, _SENTENCE_START.search(text[:hit.start]) is not None)
            else:
                new = match_case(hit.text, replacement)
            before = text[last:hit.start]
            article = _ARTICLE.search(before)
            if article and article.group(1).lower() != article_for(new):
                fixed = match_case(article.group(1), article_for(new))
                before = before[:article.start()] + fixed + article.group(2)
            pieces.append(before)
            length += len(before)
            spans.append((length, length + len(new)))
            original_spans.append((hit.start, hit.end))
            pieces.append(new)
            length += len(new)
            last = hit.end
            swaps.append(f"{hit.text} -> {new}")
            inserted.append(replacement)
            replaced.append(hit.text)
            groups.add(target)
            from_groups.add(hit.group)
        if not swaps:
            return None
        pieces.append(text[last:])
        return Variant("".join(pieces), tuple(swaps), groups.pop() if len(groups) == 1 else "mixed", tuple(inserted),
                       tuple(spans), tuple(original_spans), from_groups.pop() if len(from_groups) == 1 else "mixed",
                       tuple(replaced))

    def variants(self, text: str, hits: list[Hit] | None = None,
                 tags: dict[int, tuple[str, str]] | None = None) -> list[Variant]:
        """Counterfactual variants of `text`; `tags` maps a hit's start to its spaCy (tag, dep)."""
        hits = self.find(text) if hits is None else hits
        tags = tags or {}
        if not hits or not self.family.swappable:
            return []
        names = list(self.family.groups)
        if len(names) == 2:
            other = {names[0]: names[1], names[1]: names[0]}
            variant = self._apply(text, hits, lambda h: other[h.group], tags)
            return [variant] if variant else []
        out = []
        for target in names:
            variant = self._apply(text, hits, lambda h, t=target: t if h.group != t else None, tags)
            if variant:
                out.append(variant)
        return out

    def fill(self, template: str, group: str, position: int) -> str:
        term = self.family.slot_terms()[group][position]
        filled = template.replace("{term}", term)
        at = template.index("{term}")
        article = _ARTICLE.search(template[:at])
        if article and article.group(1).lower() != article_for(term):
            fixed = match_case(article.group(1), article_for(term))
            filled = template[:article.start()] + fixed + article.group(2) + term + template[at + len("{term}"):]
        return filled


def pool_family(families: list[TermFamily]) -> TermFamily:
    """One family holding the groups of every pool family (form-listed), so any identity term can become any other."""
    groups: dict[str, tuple[str, ...]] = {}
    forms: dict[str, tuple[str, ...]] = {}
    axes: dict[str, str] = {}
    for family in families:
        for group, terms in family.groups.items():
            key = group if group not in groups else f"{family.axis}_{group}"
            groups[key], forms[key], axes[key] = terms, family.forms[group], family.axis or family.name
    ambiguous = frozenset().union(*(f.ambiguous for f in families)) if families else frozenset()
    return TermFamily(name="identity_pool", groups=groups, forms=forms, axes=axes, ambiguous=ambiguous,
                      description="Every identity term of the pool families, swapped with every other across axes.",
                      source="; ".join(dict.fromkeys(f.source for f in families)),
                      license="; ".join(dict.fromkeys(f.license for f in families)), template_slot="descriptor",
                      case_sensitive=False, pool=True)


def sensitive_spans(text: str, swappers: list[Swapper]) -> list[tuple[int, int]]:
    """Character spans of every identity term of the given families in `text` (used for attribution reliance)."""
    return sorted((h.start, h.end) for s in swappers for h in s.find(text))
