"""The digit gate: recognizers whose patterns all need a digit are skipped on digit-free texts, with the same results."""
from __future__ import annotations

import pandas as pd
import pytest
import regex
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerRegistry

from audit.core.config import ScrubConfig
from finetune.scrub import Scrubber, _engine
from finetune.scrub._digit_gate import gate_digitless, has_digit, needs_digit
from finetune.scrub._engine import BUILTIN_RECOGNIZERS_DIR


@pytest.mark.parametrize("regex, expected", [
    (r"\d{3}", True),
    (r"[0-9]+", True),
    (r"x[0-5]", True),
    (r"(?:ab|cd)\s7", True),
    (r"(?:\d|[0-9]{2})", True),
    (r"(?=\d)\w+", True),  # a look-ahead that must see a digit: the text holds one
    (r"(?<=\d )[A-Z]+", True),
    (r"\p{Lu}[\p{L}'-]*\s\d{1,5}", True),  # the regex module's Unicode classes, read as "any character"
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


@pytest.mark.parametrize("pattern", [r"(?:7){e<=1}x", r"[[a-z]--[0-9]]", r"\d{e<=1}"])
def test_regexes_the_regex_module_reads_differently_are_not_gated(pattern: str) -> None:
    """Fuzzy matching and VERSION1-style set operations: `re` would read a digit where `regex` may match without."""
    assert not needs_digit(pattern)


def test_version1_recognizers_are_not_gated() -> None:
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.recognizers = [PatternRecognizer("NUMBER", name="v1", patterns=[Pattern("n", r"\d+", 0.9)],
                                              global_regex_flags=regex.VERSION1 | regex.IGNORECASE)]
    assert gate_digitless(registry) == []


def test_gate_skips_digit_free_texts_and_keeps_the_rest() -> None:
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.recognizers = [
        PatternRecognizer("NUMBER", name="numbers", patterns=[Pattern("n", r"\b\d+\b", 0.9)]),
        PatternRecognizer("WORD", name="words", patterns=[Pattern("n", r"\d+", 0.9), Pattern("w", r"\bzz\b", 0.9)]),
    ]
    assert gate_digitless(registry) == ["numbers"]
    numbers, words = registry.recognizers
    assert isinstance(numbers, PatternRecognizer) and numbers.name == "numbers"
    assert [(r.start, r.end) for r in numbers.analyze("room 42", ["NUMBER"])] == [(5, 7)]
    assert numbers.analyze("room forty-two", ["NUMBER"]) == []
    assert [(r.start, r.end) for r in words.analyze("a zz b", ["WORD"])] == [(2, 4)]  # not gated


DIGIT_FREE_WITH_PII = ["Write to Anna Kowalski at anna.kowalski@example.org about the Via Roma flat.",
                       "My name is Jean Dupont and I live on Rue de la Paix in Paris.",
                       "The account holder, Mr. Okafor, called from the branch on Maple Avenue."]


def _demo_texts() -> list[str]:
    root = BUILTIN_RECOGNIZERS_DIR.parents[2]
    narratives = pd.read_csv(root / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv")["narrative"]
    sentences = [s for text in narratives.dropna().astype(str).head(150) for s in text.split(". ")]
    return sentences + DIGIT_FREE_WITH_PII


def test_shipped_gated_recognizers_find_nothing_in_digit_free_texts(patterns_scrubber: Scrubber) -> None:
    """Each gated recognizer's own (ungated) analysis of real digit-free sentences is empty: the gate loses nothing."""
    texts = [t for t in _demo_texts() if not has_digit(t)]
    assert len(texts) > 300
    gated = [r for r in patterns_scrubber.analyzer.registry.recognizers if type(r).__name__.startswith("DigitGated")]
    assert {"UsSsnRecognizer", "govaudit_struct_phone_grouped", "govaudit_struct_zip"} <= {r.name for r in gated}
    for recognizer in gated:
        ungated = type(recognizer).__mro__[1]
        assert all(ungated.analyze(recognizer, t, patterns_scrubber.spec.entities) == [] for t in texts), recognizer.name


def test_scrub_results_are_the_same_without_the_gate(monkeypatch: pytest.MonkeyPatch,
                                                     patterns_scrubber: Scrubber) -> None:
    texts = _demo_texts()
    monkeypatch.setattr(_engine, "gate_digitless", lambda registry: [])
    with Scrubber(ScrubConfig(mode="patterns", n_process=1)) as ungated:
        assert not any(type(r).__name__.startswith("DigitGated") for r in ungated.analyzer.registry.recognizers)
        assert ungated.spans(texts) == patterns_scrubber.spans(texts)


def test_phone_numbers_are_not_looked_for_in_texts_with_fewer_than_six_digits(
        patterns_scrubber: Scrubber, monkeypatch: pytest.MonkeyPatch) -> None:
    """python-phonenumbers is not run where every number it could find would be dropped (fewer than 6 digits)."""
    import phonenumbers

    phones = next(r for r in patterns_scrubber.analyzer.registry.recognizers if r.name == "PhoneRecognizer")
    calls: list[str] = []
    matcher = phonenumbers.PhoneNumberMatcher
    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", lambda text, *a, **k: calls.append(text) or matcher(text, *a, **k))
    for text in ["call 555-12", "ext. 44 or room 101", "no number at all"]:
        assert phones.analyze(text, ["PHONE_NUMBER"]) == []
    assert calls == []
    assert phones.analyze("call 0800 123 4567", ["PHONE_NUMBER"]) and calls  # six digits or more: looked for
