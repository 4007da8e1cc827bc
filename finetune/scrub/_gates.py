"""Skip pattern recognizers that cannot match a text: those whose every pattern needs something the text lacks.

Presidio runs every pattern of every recognizer on every text. Two necessary conditions are read from the regexes:
- **a digit**: short texts often hold none (a name, a city, a sentence of prose). A pattern needs one when its parse
  holds a digit literal, a class of digits only (`\\d`, `[0-9]`), a repeat of at least one of those, a positive
  look-ahead or look-behind holding one, a sequence with one such element, or an alternation whose every branch has
  one.
- **a dot right before a letter**, as in `example.com`: the URL patterns need one (a dot, then a top-level domain).
  Nine in ten CFPB narratives have none, and the URL patterns are the costliest Presidio ships (an alternation of
  about 670 top-level domains, tried at every word). A pattern needs one when a dot literal is followed, in a
  sequence that must match, by an element that must match and can only start with an ASCII letter; as above, through
  groups, repeats of at least one and alternations whose every branch has one. Under IGNORECASE an ASCII letter
  also matches four other letters (U+0130 İ, U+0131 ı, U+017F ſ, U+212A the Kelvin sign), so the text is searched
  for a dot and any letter.

A recognizer is gated when all its patterns need the same one (the digit, where they need both). The regexes are
parsed by Python's own parser; the `regex` module's `\\K` is dropped first (it moves only the start of the reported
span) and its `\\p{..}` classes are read as "any word character". Anything else (negative look-arounds,
back-references, zero-width assertions between the dot and the letter) counts as "may match without", as does a regex
the parser cannot read or reads differently from the `regex` module Presidio matches with (a brace that is no
quantifier, as in fuzzy `{e<=1}`; a nested set or a POSIX class such as `[:alpha:]` in a set; whitespace other than
ASCII, which `regex` skips under VERBOSE; a recognizer with the VERSION1 flag). So gating never changes a result: a
text without the condition gives the same empty list it would have given after running all patterns.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import regex

__all__ = ["gate_recognizers", "has_digit", "has_dot_letter", "needs_digit", "needs_dot_letter"]

try:  # CPython's regex parser (sre_parse before 3.11): used read-only, and any failure means "not gated"
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - other interpreters: nothing is gated
    _sre = _sre_parse = None

_DIGITS = frozenset(range(ord("0"), ord("9") + 1))
_ASCII_LETTERS = frozenset(range(ord("a"), ord("z") + 1)) | frozenset(range(ord("A"), ord("Z") + 1))
_DOT = ord(".")
_ANY_DIGIT = regex.compile(r"\d").search  # the matcher's own digit tables (newer Unicode than `unicodedata`)
_DOT_LETTER = regex.compile(r"\.[^\W\d_]").search  # a dot, then a letter (or mark) of the matcher's Unicode tables
_NOT_A_QUANTIFIER = re.compile(r"\{(?!\d*,?\d*\})")  # e.g. regex's fuzzy {e<=1}, which `re` reads as literal braces
_UNICODE_CLASS = re.compile(r"(?<!\\)((?:\\\\)*)\\[pP]\{[^}]*\}")  # \p{Lu}, \P{L}: not an escaped backslash + p
_KEEP_OUT = re.compile(r"(?<!\\)((?:\\\\)*)\\K")  # regex's \K only moves the reported start: same texts match
_POSIX_CLASS = re.compile(r"\[:[^\]]*:\]")  # regex reads [:alpha:] in a set as a class; `re` may end the set early
_VERBOSE_SPACE = " \t\n\r\x0b\x0c"  # what `re` skips under (?x); `regex` skips every str.isspace() character
_REPEATS = () if _sre is None else (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)


def has_digit(text: str) -> bool:
    """True if `regex`'s `\\d` (the decimal digits of its Unicode version, ASCII 0-9 among them) matches in `text`."""
    return _ANY_DIGIT(text) is not None


def has_dot_letter(text: str) -> bool:
    """True if a dot is followed by a letter in `text` (`.c` of `example.com`; not `4.50` or `end. Next`)."""
    return _DOT_LETTER(text) is not None


def _parse(pattern: str, verbose: bool) -> Any:
    """The parsed regex as Python's parser reads it, or None where that reading may differ from `regex`'s."""
    source = _KEEP_OUT.sub(r"\1", _UNICODE_CLASS.sub(r"\1\\w", pattern))
    if _sre_parse is None or _NOT_A_QUANTIFIER.search(source) or _POSIX_CLASS.search(source):
        return None
    if any(c.isspace() and c not in _VERBOSE_SPACE for c in source):  # NBSP and others: a literal only to `re`
        return None
    try:
        with warnings.catch_warnings():  # "possible nested set": a VERSION1 set operation such as [[a-z]--[0-9]]
            warnings.simplefilter("error")
            return _sre_parse.parse(source, _sre.SRE_FLAG_VERBOSE if verbose else 0)
    except Exception:  # re.error, a warning, or a construct only the `regex` module knows  # noqa: BLE001
        return None


# -- a digit ---------------------------------------------------------------------------------------------------------
def _class_is_digits(items: list[tuple[Any, Any]]) -> bool:
    """True if a character class `[...]` holds digits only (and is not negated)."""
    for op, arg in items:
        if op is _sre.LITERAL and arg in _DIGITS:
            continue
        if op is _sre.RANGE and arg[0] in _DIGITS and arg[1] in _DIGITS:
            continue
        if op is _sre.CATEGORY and arg is _sre.CATEGORY_DIGIT:
            continue
        return False
    return bool(items)


def _sequence_needs_digit(sequence: Any) -> bool:
    return any(_item_needs_digit(op, arg) for op, arg in sequence)


def _item_needs_digit(op: Any, arg: Any) -> bool:
    if op is _sre.LITERAL:
        return arg in _DIGITS
    if op is _sre.IN:
        return _class_is_digits(arg)
    if op is _sre.SUBPATTERN:
        return _sequence_needs_digit(arg[-1])
    if op is _sre.ATOMIC_GROUP:
        return _sequence_needs_digit(arg)
    if op is _sre.ASSERT:  # (direction, sequence): a look-ahead or look-behind that must match
        return _sequence_needs_digit(arg[1])
    if op is _sre.BRANCH:
        return all(_sequence_needs_digit(branch) for branch in arg[1])
    if op in _REPEATS:
        low, _, body = arg
        return low >= 1 and _sequence_needs_digit(body)
    return False


def needs_digit(pattern: str, *, verbose: bool = False) -> bool:
    """True if `pattern` provably matches only in texts holding a decimal digit (False when unsure)."""
    parsed = _parse(pattern, verbose)
    return parsed is not None and _sequence_needs_digit(parsed)


# -- a dot right before a letter -------------------------------------------------------------------------------------
def _inline_groups(sequence: Any) -> list[tuple[Any, Any]]:
    """The sequence with the bodies of groups that match exactly once spliced in, so neighbours become adjacent."""
    flat: list[tuple[Any, Any]] = []
    for op, arg in sequence:
        if op is _sre.SUBPATTERN:
            flat.extend(_inline_groups(arg[-1]))
        elif op is _sre.ATOMIC_GROUP:
            flat.extend(_inline_groups(arg))
        else:
            flat.append((op, arg))
    return flat


def _first_chars(op: Any, arg: Any) -> frozenset[int] | None:
    """The characters an element that must match can start with, or None (may match empty, or unknown)."""
    if op is _sre.LITERAL:
        return frozenset((arg,))
    if op is _sre.IN:
        chars: set[int] = set()
        for item_op, item_arg in arg:
            if item_op is _sre.LITERAL:
                chars.add(item_arg)
            elif item_op is _sre.RANGE and item_arg[1] - item_arg[0] < 256:
                chars.update(range(item_arg[0], item_arg[1] + 1))
            else:  # a negation, a category (\w, \s) or a wide range
                return None
        return frozenset(chars) or None
    if op is _sre.SUBPATTERN:
        return _sequence_first_chars(arg[-1])
    if op is _sre.ATOMIC_GROUP:
        return _sequence_first_chars(arg)
    if op is _sre.BRANCH:
        firsts = [_sequence_first_chars(branch) for branch in arg[1]]
        return None if any(f is None for f in firsts) else frozenset().union(*firsts)
    if op in _REPEATS:
        low, _, body = arg
        return _sequence_first_chars(body) if low >= 1 else None
    return None


def _sequence_first_chars(sequence: Any) -> frozenset[int] | None:
    return _first_chars(*sequence[0]) if len(sequence) else None


def _sequence_needs_dot_letter(sequence: Any) -> bool:
    flat = _inline_groups(sequence)
    for (op, arg), after in zip(flat, [*flat[1:], None]):
        if op is _sre.LITERAL and arg == _DOT and after is not None:
            first = _first_chars(*after)
            needed = first is not None and first <= _ASCII_LETTERS
        elif op is _sre.ASSERT:  # (direction, sequence): a look-ahead or look-behind that must match
            needed = _sequence_needs_dot_letter(arg[1])
        elif op is _sre.BRANCH:
            needed = all(_sequence_needs_dot_letter(branch) for branch in arg[1])
        else:
            needed = op in _REPEATS and arg[0] >= 1 and _sequence_needs_dot_letter(arg[2])
        if needed:
            return True
    return False


def needs_dot_letter(pattern: str, *, verbose: bool = False) -> bool:
    """True if `pattern` provably matches only in texts where a dot is followed by a letter (False when unsure)."""
    parsed = _parse(pattern, verbose)
    return parsed is not None and _sequence_needs_dot_letter(parsed)


# -- gating recognizers ----------------------------------------------------------------------------------------------
_CONDITIONS: dict[str, tuple[Callable[..., bool], Callable[[str], bool]]] = {
    "digit": (needs_digit, has_digit),
    "dot before a letter": (needs_dot_letter, has_dot_letter),
}


def _pattern_only_classes() -> tuple[type, ...]:
    """Classes whose `analyze` returns pattern matches and nothing else (subclasses may only validate)."""
    from presidio_analyzer import PatternRecognizer
    from presidio_analyzer.predefined_recognizers import IbanRecognizer

    return PatternRecognizer, IbanRecognizer


_GATED: dict[tuple[type, str], type] = {}


def _gated_class(cls: type, condition: str) -> type:
    if (cls, condition) not in _GATED:
        holds = _CONDITIONS[condition][1]

        def analyze(self: Any, text: str, entities: list[str], nlp_artifacts: Any = None,
                    regex_flags: int | None = None) -> list[Any]:
            if not holds(text):
                return []
            return cls.analyze(self, text, entities, nlp_artifacts, regex_flags)

        _GATED[cls, condition] = type(f"Gated{cls.__name__}", (cls,), {
            "analyze": analyze, "gate_condition": condition, "__module__": __name__})
    return _GATED[cls, condition]


def gate_recognizers(registry: Any) -> dict[str, str]:
    """Give every pattern recognizer of `registry` whose patterns all need a digit, or all a dot before a letter,
    the gate for it; returns {recognizer name: condition}."""
    plain = _pattern_only_classes()
    gated: dict[str, str] = {}
    for recognizer in registry.recognizers:
        analyze = getattr(type(recognizer), "analyze", None)
        if not isinstance(recognizer, plain[0]) or not any(analyze is c.analyze for c in plain):
            continue
        flags = getattr(recognizer, "global_regex_flags", 0) or 0
        if flags & regex.VERSION1 or not recognizer.patterns:  # VERSION1: set operations `re` would read otherwise
            continue
        verbose = bool(flags & regex.VERBOSE)
        for condition, (needs, _) in _CONDITIONS.items():
            if all(needs(p.regex, verbose=verbose) for p in recognizer.patterns):
                recognizer.__class__ = _gated_class(type(recognizer), condition)
                gated[recognizer.name] = condition
                break
    return gated
