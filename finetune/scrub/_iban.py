"""IBAN-shaped account numbers of any country code, kept when their ISO 7064 mod 97-10 check digits hold.

Presidio's `IbanRecognizer` also requires the country to be in its registry table with that exact length, so an
account number written in IBAN form for a country outside the table (or one the table lists with another length)
stays in the text although its check digits prove it is one. This subclass keeps Presidio's pattern and grouping
(2 letters, 2 check digits, groups of 4 with optional space or dash) and validates by the checksum alone: move the
first four characters to the end, letters to numbers (A = 10 ... Z = 35), the number mod 97 must be 1 (ISO 13616).
A random string of that shape passes with probability 1/97. Both modes (no NLP needed).
"""
from __future__ import annotations

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import IbanRecognizer

__all__ = ["AnyCountryIbanRecognizer", "iban_checksum_holds"]

_MIN_LENGTH, _MAX_LENGTH = 15, 34  # ISO 13616: the shortest registered IBAN (Norway) has 15 characters, at most 34


def iban_checksum_holds(text: str) -> bool:
    """True if `text` (spaces and dashes removed) is 2 letters, 2 digits and alphanumerics passing mod 97-10."""
    compact = text.replace(" ", "").replace("-", "")
    if not (_MIN_LENGTH <= len(compact) <= _MAX_LENGTH and compact.isascii() and compact.isalnum()):
        return False
    if not (compact[:2].isalpha() and compact[:2].isupper() and compact[2:4].isdigit()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged.upper())) % 97 == 1


class AnyCountryIbanRecognizer(IbanRecognizer):
    """Presidio's IBAN pattern, validated by the ISO 7064 checksum only (any two-letter country code)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="govaudit_iban_any_country")

    def validate_result(self, pattern_text: str) -> bool:
        return iban_checksum_holds(EntityRecognizer.sanitize_value(pattern_text, self.replacement_pairs))
