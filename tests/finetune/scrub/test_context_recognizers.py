"""Shipped recognizers in patterns mode: whole names after a title, SSNs after an SSN label (even sample numbers)."""
from __future__ import annotations

import pytest

from audit.core.config import ScrubConfig
from finetune.scrub import Scrubber


@pytest.fixture(scope="module")
def scrubber():
    with Scrubber(ScrubConfig(mode="patterns", n_process=1)) as scrubber:
        yield scrubber


@pytest.mark.parametrize("text, expected", [
    ("My name is John Smith.", "My name is <PERSON>."),
    ("Dear Maria Ortega, thank you", "Dear <PERSON>, thank you"),
    ("Mr. Tom Okafor called twice", "Mr. <PERSON> called twice"),
    ("Name: Ann Lee", "Name: <PERSON>"),
    ("Dear John S. Miller,", "Dear <PERSON>,"),
    ("Her maiden name is Åström", "Her maiden name is <PERSON>"),  # a capital outside A-Z
    ("What's your name? Dawid Szuta", "What's your name? <PERSON>"),
])
def test_a_name_after_a_title_is_replaced_whole(scrubber, text, expected):
    assert scrubber.scrub([text])[0].text == expected


@pytest.mark.parametrize("text, expected", [
    ("SSN: 123-45-6789", "SSN: <US_SSN>"),  # Presidio's US_SSN rejects this sample number
    ("my SSN is 123-45-6789.", "my SSN is <US_SSN>."),
    ("Social Security Number 987 65 4320 on file", "Social Security Number <US_SSN> on file"),
    ("SS# 078-05-1120", "SS# <US_SSN>"),
])
def test_a_number_labelled_ssn_is_scrubbed_even_if_presidio_calls_it_invalid(scrubber, text, expected):
    assert scrubber.scrub([text])[0].text == expected


@pytest.mark.parametrize("text", ["order 123-45-6789 shipped", "ssn 12-345-6789"])
def test_unlabelled_or_malformed_numbers_are_left(scrubber, text):
    assert scrubber.scrub([text])[0].text == text
