"""Phone numbers in national and international writing (recognizers/structured.yaml, default.yaml), issue #18 round 4.

Examples are written from the general shape of national numbering plans (ITU-T E.164 national formats: a trunk 0,
an area code, a subscriber number of 5-8 digits, grouped by local habit), never copied from an evaluation set.
Patterns mode (no spaCy, no context words), so each shape is found by the shape or the label alone.
"""
from __future__ import annotations

import pytest

from finetune.scrub import Scrubber


def _phones(patterns_scrubber: Scrubber, text: str) -> list[str]:
    [spans] = patterns_scrubber.spans([text])
    return [text[a:b] for kind, a, b in spans if kind == "PHONE_NUMBER"]


@pytest.mark.parametrize("text, value", [
    # trunk 0 + area code + subscriber number, after an escaped newline (a literal backslash-n, as in exported text:
    # Presidio's PhoneRecognizer needs a word boundary there); one group, a slash, mixed separators
    ("Jane Doe\\n0341 7456373\\njane@example.com", "0341 7456373"),
    ("Jane Doe\\n06-48475819\\n", "06-48475819"),
    ("Jane Doe\\n030/1234567\\n", "030/1234567"),
    ("Jane Doe\\n070-123 45 67\\n", "070-123 45 67"),
    ("Jane Doe\\n073 691-82-96\\n", "073 691-82-96"),
    ("got 011563015 from her", "011563015"),  # trunk 0 + 8 digits unbroken
    ("Jane Doe\\n0341 7456373 x12\\n", "0341 7456373 x12"),  # with its extension
    ("Info:\\n032 572 74 60 x12\\n", "032 572 74 60 x12"),
])
def test_trunk_zero_national_formats(patterns_scrubber, text, value):
    assert value in _phones(patterns_scrubber, text)


@pytest.mark.parametrize("text, value", [
    ("She gave me 434 8140 and left", "434 8140"),  # 3-4 (North-American local, and others)
    ("She gave me 434-8140 and left", "434-8140"),
    ("Write 22 646359 down", "22 646359"),  # 2-6
    ("it was 61 51 81 then", "61 51 81"),  # 2-2-2
    ("or 9468 5328 instead", "9468 5328"),  # 4-4
    ("note 279-62-05 here", "279-62-05"),  # 3-2-2
    ("note 706 07 78 here", "706 07 78"),
    ("or 9123-4567 later", "9123-4567"),  # 4-4 with a hyphen
    ("or 2990154934 later", "2990154934"),  # 10 digits unbroken, not led by 0 or 1
    ("She gave me 434-8140 ext. 12 and left", "434-8140 ext. 12"),  # with its extension
])
def test_short_subscriber_numbers(patterns_scrubber, text, value):
    assert value in _phones(patterns_scrubber, text)


@pytest.mark.parametrize("text, value", [
    ("Info:\\n+54 9 3328 8709\\n", "+54 9 3328 8709"),  # after an escaped newline
    ("or +(371) 91234567 abroad", "+(371) 91234567"),  # country code in brackets after the +
    ("or (+57)9124031026 abroad", "(+57)9124031026"),  # + inside the brackets
])
def test_international_writing(patterns_scrubber, text, value):
    assert value in _phones(patterns_scrubber, text)


@pytest.mark.parametrize("text, value", [
    ("Home: 51234567", "51234567"),  # a label with a colon
    ("Tel:51234567 (day)", "51234567"),  # glued to the label
    ("M: 51234567", "51234567"),  # one-letter labels of a contact block
    ("W: 32123456", "32123456"),
    ("Mob. no: 51234567", "51234567"),
    ("Phone #51234567", "51234567"),
    ("Phone:\\n039-5447612\\n", "039-5447612"),  # a subscriber group of 7 digits after the label
    ("Phone: 00-43200761", "00-43200761"),
])
def test_after_a_phone_label(patterns_scrubber, text, value):
    assert value in _phones(patterns_scrubber, text)


@pytest.mark.parametrize("text", [
    "I paid 120 1500 dollars for it",  # amounts
    "I paid $100 1000 times",
    "it ran from 2019 2020 and between 1999 2005",  # year pairs
    "on 01/05/2023 and 12 05 2023 I paid",  # dates
    "ZIP 60601-1234 and 12 CFR 1002.9",
    "at 08:25:10 from 192.168.10.200",  # a time, an IPv4 address
    "it is at 575 1815 street",  # a house number before a street
    "Part: 12345678 and at: 1234567",  # no phone label
    "the loan of 500 1000 days late",
    "ZIP 12345-6789, from 2019-2020, in 1000-2000 dollars",  # ZIP+4, a year range, an amount range
    "saved at 1701388800 epoch",  # a Unix time stamp (10 digits led by 1)
])
def test_not_phone_numbers(patterns_scrubber, text):
    """Amounts, years, dates, times, IPv4 addresses, house numbers and unlabelled digit runs stay no phone."""
    assert _phones(patterns_scrubber, text) == []
