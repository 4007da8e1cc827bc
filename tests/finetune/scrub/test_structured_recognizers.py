"""Shipped structured-PII recognizers (recognizers/structured.yaml): phones, addresses, ages, dates of birth.

Patterns mode (no spaCy), so only the context-free patterns are exercised; CFPB-like texts must stay untouched.
"""
from __future__ import annotations

import pytest

from audit.core.config import ScrubConfig
from finetune.scrub import Scrubber


@pytest.mark.parametrize("text, entity, value", [
    ("Phone: 604-415-9025", "PHONE_NUMBER", "604-415-9025"),
    ("please have the manager call me at 671 085 010", "PHONE_NUMBER", "671 085 010"),
    ("You can call (70) 761-6470 now", "PHONE_NUMBER", "(70) 761-6470"),
    ("Personal Info:\nPhone:\n22 646359", "PHONE_NUMBER", "22 646359"),
    # exported text with escaped newlines: a literal backslash-n glued to the label (no word boundary before it)
    ("Personal Info:\\nPhone:\\n031-863-411\\n\\nE-mail:", "PHONE_NUMBER", "031-863-411"),
    ("Info:\\nPhone:\\n(88) 158-170\\n", "PHONE_NUMBER", "(88) 158-170"),
    ("Send it to 12 Oak Street, Apt 4", "STREET_ADDRESS", "12 Oak Street, Apt 4"),
    ("a taxi to 30070 Grazer Strasse 96 Suite 330 please", "STREET_ADDRESS", "30070 Grazer Strasse 96 Suite 330"),
    ("It is at Paseo Junquera 80.", "STREET_ADDRESS", "Paseo Junquera 80"),
    ("Meet me at PSC 1250, Box 0905\nAPO AE 67429", "STREET_ADDRESS", "PSC 1250, Box 0905\nAPO AE 67429"),
    ("My brother just turned 83", "AGE", "83"),
    ("originally from Skive, and i'm 45", "AGE", "45"),
    ("a 19 year old student", "AGE", "19"),
    ("She was born on 4/15/1964 in Ohio", "DATE_OF_BIRTH", "4/15/1964"),
    ("DOB: March 3, 1971", "DATE_OF_BIRTH", "March 3, 1971"),
    # escaped newlines (a literal backslash-n) as line breaks of a multi-line address
    ("Rennie\\n\\n59363 71 Rowland Rd\\n Suite 64", "STREET_ADDRESS", "59363 71 Rowland Rd\\n Suite 64"),
    ("Lucinda Rennie\\n Apt. 157\\n Neupré", "STREET_ADDRESS", "Apt. 157"),
    ("address:\\n\\nPSC 3406, Box 0207\nAPO AE 75363", "STREET_ADDRESS", "PSC 3406, Box 0207\nAPO AE 75363"),
    ("Please return to USS Lindström\nFPO AE 83264 in case", "STREET_ADDRESS", "USS Lindström\nFPO AE 83264"),
    ("The title refers to ul. Cicha 86 street", "STREET_ADDRESS", "ul. Cicha 86"),
    ("Suite 251\\n Schuld\\n\\n Germany 91647", "ZIP_CODE", "91647"),
    ("Chicago, IL 60601", "ZIP_CODE", "60601"),
    # national phone formats by their shape alone (patterns mode: no context words)
    ("Write 03.28.30.47.39 down", "PHONE_NUMBER", "03.28.30.47.39"),
    ("or try 032 572 74 60 later", "PHONE_NUMBER", "032 572 74 60"),
    ("or (73) 113-875 after six", "PHONE_NUMBER", "(73) 113-875"),
    # issue #18, this stop (Ofcom's drama range 01632 960xxx): 11 unbroken digits right after a phone label
    ("Contact\\nPhone:\\n01632960723\\nE-mail:", "PHONE_NUMBER", "01632960723"),
])
def test_structured_values_are_found(patterns_scrubber, text, entity, value):
    [spans] = patterns_scrubber.spans([text])
    assert (entity, value) in [(kind, text[a:b]) for kind, a, b in spans]


@pytest.mark.parametrize("text", [
    "I paid $500 on XX/XX/XXXX and called 3 times",
    "Chapter 7 Bankruptcy 2019 was filed",
    "I was charged 35 dollars when I was 12 days late",
    "the loan of 500 Check Into Cash 2 weeks later",
    "I'm 5 minutes away and turned 2 pages",
    "I moved to Texas in 2019. Since Florida 2020, nothing",
    "On 12.05.2023 and 2023-05-12 I paid 1,500.00 under 12 CFR 1002.9",
])
def test_cfpb_like_text_is_left_alone(patterns_scrubber, text):
    [spans] = patterns_scrubber.spans([text])
    assert [(kind, text[a:b]) for kind, a, b in spans] == []


@pytest.mark.parametrize("text", [
    "the server 192.168.10.200 was down",  # an IPv4 address (the IP recognizer has it)
    "as 15 USC 1681 and 15 U.S.C. 1692k say",  # statute sections Presidio's PhoneRecognizer takes for short numbers
])
def test_not_a_phone_number(patterns_scrubber, text):
    [spans] = patterns_scrubber.spans([text])
    assert [text[a:b] for kind, a, b in spans if kind == "PHONE_NUMBER"] == []


def test_not_a_phone_number_next_to_phone_words():
    """Full mode, where context words lift the weak phone patterns: times, SSN shapes and dates stay no phone."""
    texts = ["Phone log 2021-04-09 07:43:04 saved",  # a time stamp
             "my social security number is 219-09-9999",  # SSN-shaped 3-2-4 after "number"
             "the number 14.05.2021 on the phone bill"]  # a date next to phone words
    with Scrubber(ScrubConfig(mode="full", entities=["PHONE_NUMBER"], n_process=1)) as full:
        found = full.spans(texts)
    assert [[t[a:b] for kind, a, b in spans if kind == "PHONE_NUMBER"] for t, spans in zip(texts, found)] == [[]] * 3


@pytest.mark.parametrize("text, start, end, fragment", [
    ("at 08:25:10.155682 today", 9, 18, True),  # "10.155682" after "25:"
    ("on 2011-06-15 23:59 it", 3, 16, True),  # "2011-06-15 23" before ":59"
    ("ip 192.168.10.200 down", 3, 17, True),
    ("call 030 1234567 now", 5, 16, False),
    ("ring 03.28.30.47.39 now", 5, 19, False),
    ("under 15 USC 1681 the", 13, 17, True),  # a section number, 4 digits
])
def test_number_fragments(text, start, end, fragment):
    from finetune.scrub._engine import is_number_fragment

    assert is_number_fragment(text, start, end) is fragment


def test_shipped_entities_are_skipped_without_the_shipped_recognizers():
    with Scrubber(ScrubConfig(mode="patterns", builtin_recognizers=False, n_process=1)) as plain:
        assert {"STREET_ADDRESS", "ZIP_CODE", "AGE", "DATE_OF_BIRTH"} <= set(plain.spec.not_covered)
        assert plain.spans(["My brother just turned 83"]) == [[]]
