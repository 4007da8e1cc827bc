"""Skip pattern recognizers that cannot match a text: those whose every pattern needs a digit, on texts without one.

Short texts often hold no digit at all (a name, a city, a sentence of prose), yet Presidio runs every pattern of
every recognizer on them. A recognizer is gated only when each of its patterns provably matches nowhere in a text
without a decimal digit, which is read from the parsed regex (Python's own regex parser): a digit literal, a class
of digits only (`\\d`, `[0-9]`), a repeat of at least one of those, a positive look-ahead or look-behind holding
one, a sequence with one such element, or an alternation whose every branch has one. The `regex` module's `\\K` is
dropped first (it moves only the start of the reported span) and its `\\p{..}` classes are read as "any character".
Anything else (negative look-arounds, back-references, classes with other characters) counts as "may match without
a digit", as does a regex the parser cannot read or reads differently from the `regex` module Presidio matches with
(a brace that is no quantifier, as in fuzzy `{e<=1}`; a nested set; a recognizer with the VERSION1 flag). So gating
never changes a result: a text in which the `regex` module's `\\d` finds no digit gives the same empty list it
would have given after running all patterns.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

import regex

__all__ = ["gate_digitless", "has_digit", "needs_digit"]

try:  # CPython's regex parser (sre_parse before 3.11): used read-only, and any failure means "not gated"
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - other interpreters: nothing is gated
    _sre = _sre_parse = None

_DIGITS = frozenset(range(ord("0"), ord("9") + 1))
_ANY_DIGIT = regex.compile(r"\d").search  # the matcher's own digit tables (newer Unicode than `unicodedata`)
_NOT_A_QUANTIFIER = re.compile(r"\{(?!\d*,?\d*\})")  # e.g. regex's fuzzy {e<=1}, which `re` reads as literal braces
_UNICODE_CLASS = re.compile(r"(?<!\\)((?:\\\\)*)\\[pP]\{[^}]*\}")  # \p{Lu}, \P{L}: not an escaped backslash + p
_KEEP_OUT = re.compile(r"(?<!\\)((?:\\\\)*)\\K")  # regex's \K only moves the reported start: same texts match


def has_digit(text: str) -> bool:
    """True if `regex`'s `\\d` (the decimal digits of its Unicode version, ASCII 0-9 among them) matches in `text`."""
    return _ANY_DIGIT(text) is not None


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
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, _, body = arg
        return low >= 1 and _sequence_needs_digit(body)
    return False


def needs_digit(pattern: str, *, verbose: bool = False) -> bool:
    """True if `pattern` provably matches only in texts holding a decimal digit (False when unsure)."""
    source = _KEEP_OUT.sub(r"\1", _UNICODE_CLASS.sub(r"\1\\w", pattern))
    if _sre_parse is None or _NOT_A_QUANTIFIER.search(source):
        return False
    try:
        with warnings.catch_warnings():  # "possible nested set": a VERSION1 set operation such as [[a-z]--[0-9]]
            warnings.simplefilter("error")
            parsed = _sre_parse.parse(source, _sre.SRE_FLAG_VERBOSE if verbose else 0)
    except Exception:  # re.error, a warning, or a construct only the `regex` module knows  # noqa: BLE001
        return False
    return _sequence_needs_digit(parsed)


def _pattern_only_classes() -> tuple[type, ...]:
    """Classes whose `analyze` returns pattern matches and nothing else (subclasses may only validate)."""
    from presidio_analyzer import PatternRecognizer
    from presidio_analyzer.predefined_recognizers import IbanRecognizer

    return PatternRecognizer, IbanRecognizer


_GATED: dict[type, type] = {}


def _gated_class(cls: type) -> type:
    if cls not in _GATED:
        def analyze(self: Any, text: str, entities: list[str], nlp_artifacts: Any = None,
                    regex_flags: int | None = None) -> list[Any]:
            if not has_digit(text):
                return []
            return cls.analyze(self, text, entities, nlp_artifacts, regex_flags)

        _GATED[cls] = type(f"DigitGated{cls.__name__}", (cls,), {"analyze": analyze, "__module__": __name__})
    return _GATED[cls]


def gate_digitless(registry: Any) -> list[str]:
    """Give every pattern recognizer of `registry` whose patterns all need a digit the gate; returns their names."""
    plain = _pattern_only_classes()
    gated = []
    for recognizer in registry.recognizers:
        analyze = getattr(type(recognizer), "analyze", None)
        if not isinstance(recognizer, plain[0]) or not any(analyze is c.analyze for c in plain):
            continue
        flags = getattr(recognizer, "global_regex_flags", 0) or 0
        if flags & regex.VERSION1:  # set operations and other syntax `re` would read differently
            continue
        verbose = bool(flags & regex.VERBOSE)
        if recognizer.patterns and all(needs_digit(p.regex, verbose=verbose) for p in recognizer.patterns):
            recognizer.__class__ = _gated_class(type(recognizer))
            gated.append(recognizer.name)
    return gated
