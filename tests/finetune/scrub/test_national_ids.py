"""Other countries' identity numbers after an identity-number label (govaudit_ssn_after_label, default.yaml)."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("text, value", [
    ("His social security number is 252021601523352.", "252021601523352"),  # French INSEE shape, 15 digits
    ("SSN: 93093072049, see attached", "93093072049"),                       # 11 digits (PESEL shape)
    ("my personal identity code 131052-308T was leaked", "131052-308T"),     # check character attached
    ("National insurance number AB123456C on file", "AB123456C"),            # leading and trailing capitals
    ("Her ID card number is 756.1234.5678.97 today", "756.1234.5678.97"),    # dotted groups
])
def test_identity_number_after_label_is_scrubbed(patterns_scrubber, text, value):
    [spans] = patterns_scrubber.spans([text])
    assert ("US_SSN", value) in [(kind, text[a:b]) for kind, a, b in spans]


@pytest.mark.parametrize("text", [
    "They asked for my social security number is XXXX and refused",  # masked: no digits
    "my ID number is 12345 short",                                   # five digits are no identity number
    "my ID number is 1234567 only",                                  # nor seven digits without a check letter
    "I gave my social security number twice and paid 2 fees",
])
def test_no_identity_number_without_its_digits(patterns_scrubber, text):
    [spans] = patterns_scrubber.spans([text])
    assert "US_SSN" not in [kind for kind, _, _ in spans]


def test_the_label_word_is_not_part_of_the_value(patterns_scrubber):
    text = "Social security number is 1234567890 and that is all"
    [spans] = patterns_scrubber.spans([text])
    assert [text[a:b] for kind, a, b in spans if kind == "US_SSN"] == ["1234567890"]
