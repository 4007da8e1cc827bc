"""The gates: recognizers whose patterns all need a digit (or a dot before a letter) are skipped on texts without
one, with the same results."""
from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import regex
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerRegistry

from audit.core.config import ScrubConfig
from finetune.scrub import Scrubber, _engine
from finetune.scrub._engine import BUILTIN_RECOGNIZERS_DIR
from finetune.scrub._gates import gate_recognizers, has_digit, has_dot_letter, needs_digit, needs_dot_letter


@pytest.mark.parametrize("regex, expected", [
    (r"\d{3}", True),
    (r"[0-9]+", True),
    (r"x[0-5]", True),
    (r"(?:ab|cd)\s7", True),
    (r"(?:\d|[0-9]{2})", True),
    (r"(?=\d)\w+", True),  # a look-ahead that must see a digit: the text holds one
    (r"(?<=\d )[A-Z]+", True),
    (r"\p{Lu}[\p{L}'-]*\s\d{1,5}", True),  # the regex module's Unicode classes, read as "any word character"
    (r"\bid\s*\K\d+", True),  # \K only moves the span's start
    (r"\\K\d", True),  # an escaped backslash, then K and a digit
    (r"\d*", False),
    (r"\d{0,3}x", False),
    (r"(?:\d|x)", False),
    (r"[0-9a-f]+", False),
    (r"[^0-9]", False),
    (r"(?!\d)\w", False),
    (r"\p{Lu}+", False),
    (r"\p{Nd}+", False),  # a digit class the parser cannot read: unsure, so not gated
    (r"\\p{N}", False),  # an escaped backslash then the letters p{N}, not a class
    (r"(\d)?\1", False),
    (r"(", False),  # unreadable: unsure
])
def test_needs_digit(regex: str, expected: bool) -> None:
    assert needs_digit(regex) is expected


def test_needs_digit_reads_verbose_regexes() -> None:
    assert needs_digit(r"\d  # a digit", verbose=True)
    assert not needs_digit(r"[a-z]  # \d in a comment", verbose=True)


def test_has_digit_agrees_with_the_regex_engine_on_every_code_point() -> None:
    """Each character Presidio's engine (`regex`) matches with \\d counts as a digit, also those newer than the
    interpreter's Unicode tables (str.isdigit misses them)."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    digits = regex.findall(r"\d", everything)
    assert len(digits) > 600 and all(has_digit(c) for c in digits)
    assert has_digit("order ٣") and has_digit("１") and not has_digit("no digits here, only words.")


@pytest.mark.parametrize("regex, expected", [
    (r"x\.com", True),
    (r"(?i)[a-z0-9.\-]{1,253}[.](?:(?:com)|(?:co)|(?:edu))", True),  # Presidio's URL shape
    (r"(?:https?://)((www\d{0,3}[.])?[a-z]+[.](?:(?:com)|(?:net)))", True),  # the dot and the name in nested groups
    (r"(?:a\.b)+", True),
    (r"a(?=\.com)", True),
    (r"(?:x\.org|y\.net)", True),
    (r"\.\w", False),  # \w also holds digits and _
    (r"\.(?:c|\d)", False),
    (r"a\.b?", False),
    (r"(?:a\.b)*", False),
    (r"(?:a\.|b\.)c", False),  # the dot ends each branch: unsure, so not gated
    (r"\.\bcom", False),  # a zero-width assertion between the dot and the letter
    (r"a.com", False),  # an unescaped dot is any character
    (r"\.\p{L}", False),
    (r"(?!\.com)\w", False),
    (r"(?:\.com)?", False),
    (r"\.(?:com|)", False),
    (r"\.[^a-z]", False),
])
def test_needs_dot_letter(regex: str, expected: bool) -> None:
    assert needs_dot_letter(regex) is expected


def test_has_dot_letter_finds_every_character_a_letter_pattern_matches_case_insensitively() -> None:
    """Under IGNORECASE (and full case folding) `[a-z]` also matches the Kelvin sign, the long s and others: each of
    them after a dot counts; only a dot matches a dot."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    for flags in (regex.IGNORECASE, regex.IGNORECASE | regex.FULLCASE):
        letters = regex.findall(r"[a-z]", everything, flags=flags)
        assert len(letters) > 52 and all(has_dot_letter("." + c) for c in letters)
        assert regex.findall(r"\.", everything, flags=flags) == ["."]
    assert has_dot_letter("see example.org") and has_dot_letter("u.s. law")
    assert not has_dot_letter("It cost $4.50. Then 3.5% more.") and not has_dot_letter("...")


@pytest.mark.parametrize("pattern, text", [
    (r"(?:7){e<=1}x", "ax"),  # fuzzy matching: one error allowed
    (r"[[a-z]--[0-9]]", "a"),  # a VERSION1 set operation, with a recognizer's VERSION1 flag (below)
    (r"\d{e<=1}", "a"),
    (r"[x[:alpha:]0]", "x"),  # a POSIX class in a set: `re` ends the set at its first ]
    ("(?x)x\\d\u00a0*", "x"),  # regex skips a no-break space under (?x): the * binds to \d
    (r"(?:\.com){e<=1}", "acom"),
    (r"x[a[:^alpha:]\.b]", "x1"),
    ("(?x)\\.[a-z]\u00a0*", "."),
])
def test_regexes_the_regex_module_reads_differently_are_not_gated(pattern: str, text: str) -> None:
    """Where `re` would read a digit, or a dot before a letter, that `regex` can match without."""
    version = regex.VERSION1 if "--" in pattern else 0
    assert regex.search(pattern, text, flags=regex.IGNORECASE | version)  # it matches without either condition
    assert not needs_digit(pattern) and not needs_dot_letter(pattern)


def test_version1_recognizers_are_not_gated() -> None:
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.recognizers = [PatternRecognizer("NUMBER", name="v1", patterns=[Pattern("n", r"\d+", 0.9)],
                                              global_regex_flags=regex.VERSION1 | regex.IGNORECASE)]
    assert gate_recognizers(registry) == {}


def test_gate_skips_texts_without_the_condition_and_keeps_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    analyze = PatternRecognizer.analyze
    monkeypatch.setattr(PatternRecognizer, "analyze",
                        lambda self, text, *a: ran.append(self.name) or analyze(self, text, *a))
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.recognizers = [
        PatternRecognizer("NUMBER", name="numbers", patterns=[Pattern("n", r"\b\d+\b", 0.9)]),
        PatternRecognizer("WORD", name="words", patterns=[Pattern("n", r"\d+", 0.9), Pattern("w", r"\bzz\b", 0.9)]),
        PatternRecognizer("DOMAIN", name="domains", patterns=[Pattern("d", r"\b\w+\.(?:com|org)\b", 0.9)]),
    ]
    assert gate_recognizers(registry) == {"numbers": "digit", "domains": "dot before a letter"}
    numbers, words, domains = registry.recognizers
    assert [(r.start, r.end) for r in domains.analyze("see x1.ORG now", ["DOMAIN"])] == [(4, 10)]
    assert domains.analyze("see x1. org now", ["DOMAIN"]) == []
    assert isinstance(numbers, PatternRecognizer) and numbers.name == "numbers"
    assert [(r.start, r.end) for r in numbers.analyze("room 42", ["NUMBER"])] == [(5, 7)]
    assert numbers.analyze("room forty-two", ["NUMBER"]) == []
    assert [(r.start, r.end) for r in words.analyze("a zz b", ["WORD"])] == [(2, 4)]  # not gated
    assert ran == ["domains", "numbers", "words"]  # the patterns ran only where the condition holds


DIGIT_FREE_WITH_PII = ["Write to Anna Kowalski at anna.kowalski@example.org about the Via Roma flat.",
                       "Her page is annakowalski.net, see also www.example.com/about for the firm.",
                       "My name is Jean Dupont and I live on Rue de la Paix in Paris.",
                       "The account holder, Mr. Okafor, called from the branch on Maple Avenue."]


def _demo_texts() -> list[str]:
    root = BUILTIN_RECOGNIZERS_DIR.parents[2]
    narratives = pd.read_csv(root / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv")["narrative"]
    sentences = [s for text in narratives.dropna().astype(str).head(150) for s in text.split(". ")]
    return sentences + DIGIT_FREE_WITH_PII


@pytest.mark.parametrize("condition, holds, some_gated", [
    ("digit", has_digit, {"UsSsnRecognizer", "govaudit_struct_phone_grouped", "govaudit_struct_zip"}),
    ("dot before a letter", has_dot_letter, {"UrlRecognizer"}),
])
def test_shipped_gated_recognizers_find_nothing_where_their_condition_fails(
        patterns_scrubber: Scrubber, condition: str, holds: Any, some_gated: set[str]) -> None:
    """Each gated recognizer's own (ungated) analysis of real sentences without its condition is empty: the gate loses
    nothing."""
    texts = [t for t in _demo_texts() if not holds(t)]
    assert len(texts) > 300
    recognizers = patterns_scrubber.analyzer.registry.recognizers
    gated = [r for r in recognizers if getattr(r, "gate_condition", "") == condition]
    assert some_gated <= {r.name for r in gated}
    for recognizer in gated:
        ungated = type(recognizer).__mro__[1]
        entities = patterns_scrubber.spec.entities
        assert all(ungated.analyze(recognizer, t, entities) == [] for t in texts), recognizer.name


def test_scrub_results_are_the_same_without_the_gate(monkeypatch: pytest.MonkeyPatch,
                                                     patterns_scrubber: Scrubber) -> None:
    texts = _demo_texts()
    monkeypatch.setattr(_engine, "gate_recognizers", lambda registry: {})
    with Scrubber(ScrubConfig(mode="patterns", n_process=1)) as ungated:
        assert not any(hasattr(r, "gate_condition") for r in ungated.analyzer.registry.recognizers)
        assert ungated.spans(texts) == patterns_scrubber.spans(texts)


def test_phone_numbers_are_not_looked_for_in_texts_with_fewer_than_six_digits(
        patterns_scrubber: Scrubber, monkeypatch: pytest.MonkeyPatch) -> None:
    """python-phonenumbers is not run where every number it could find would be dropped (fewer than 6 digits)."""
    import phonenumbers

    phones = next(r for r in patterns_scrubber.analyzer.registry.recognizers if r.name == "PhoneRecognizer")
    calls: list[str] = []
    matcher = phonenumbers.PhoneNumberMatcher
    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher",
                        lambda text, *a, **k: calls.append(text) or matcher(text, *a, **k))
    for text in ["call 555-12", "ext. 44 or room 101", "no number at all"]:
        assert phones.analyze(text, ["PHONE_NUMBER"]) == []
    assert calls == []
    assert phones.analyze("call 0800 123 4567", ["PHONE_NUMBER"]) and calls  # six digits or more: looked for
