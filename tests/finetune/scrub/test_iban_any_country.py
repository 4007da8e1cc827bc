"""IBAN-form account numbers outside Presidio's country table, found by their check digits (finetune/scrub/_iban.py)."""
from __future__ import annotations

import pytest
from presidio_analyzer.predefined_recognizers import IbanRecognizer

# check digits computed by hand with ISO 7064 mod 97-10; MX and PH are not in the IBAN registry, and the GB number
# is one character short of the registered 22, so Presidio's own recognizer drops all three
OUTSIDE_TABLE = ["MX340021000001234567890", "PH09 1234 5678 9012 3456", "GB24NWBK6016133192681"]


@pytest.mark.parametrize("value", OUTSIDE_TABLE)
def test_checksum_valid_iban_outside_the_table_is_scrubbed(patterns_scrubber, value):
    text = f"Please wire the refund to {value} by Friday."
    assert IbanRecognizer().analyze(text, ["IBAN_CODE"]) == []  # the gap this recognizer closes
    [spans] = patterns_scrubber.spans([text])
    assert ("IBAN_CODE", value) in [(kind, text[a:b]) for kind, a, b in spans]


@pytest.mark.parametrize("value", ["MX350021000001234567890", "PH08 1234 5678 9012 3456", "ZZ00ABCD1234EFGH"])
def test_wrong_check_digits_are_not_an_iban(patterns_scrubber, value):
    [spans] = patterns_scrubber.spans([f"Reference {value} was quoted."])
    assert "IBAN_CODE" not in [kind for kind, _, _ in spans]


def test_registered_iban_is_still_found_once(patterns_scrubber):
    text = "IBAN DE89 3704 0044 0532 0130 00 please"
    [spans] = patterns_scrubber.spans([text])
    assert [(kind, text[a:b]) for kind, a, b in spans] == [("IBAN_CODE", "DE89 3704 0044 0532 0130 00")]


def test_record_lists_the_recognizer(patterns_scrubber):
    assert "govaudit_iban_any_country" in patterns_scrubber.spec.custom_recognizers
