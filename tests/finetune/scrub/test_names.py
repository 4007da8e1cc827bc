"""The census name-list PERSON recognizer (finetune/scrub/_names.py): names it must find, words it must leave."""
from __future__ import annotations

import gzip

import pytest
import spacy
from spacy.tokens import Span

from audit.core.config import ScrubConfig
from finetune.scrub import Scrubber, scrub_texts
from finetune.scrub._names import NAMES_DIR, NameListRecognizer


@pytest.fixture(scope="module")
def recognizer() -> NameListRecognizer:
    return NameListRecognizer()


def names(recognizer: NameListRecognizer, text: str, nlp_artifacts=None) -> list[str]:
    return sorted(text[r.start:r.end] for r in recognizer.analyze(text, ["PERSON"], nlp_artifacts))


@pytest.mark.parametrize("text, expected", [
    ("I'm so jealous! said Gladys to Logan", ["Gladys", "Logan"]),  # first names alone
    ("Bot: What's the name on the account? User: Ágnes Földesy", ["Ágnes Földesy"]),  # accents folded
    ("Directed by Julieta S. Almeida in Lisbon", ["Julieta S. Almeida"]),  # first name + initial + surname
    ("Nikolaj N Møller will be talking", ["Nikolaj N Møller"]),  # name + initial + name
    ("I want to add Irenke Hoffmann as a beneficiary", ["Irenke Hoffmann"]),  # unknown word + surname
    ("Our 3 founders: Kónya, Becker and Vasquez.", ["Becker", "Kónya", "Vasquez"]),  # list of surnames
    ("Halldór: What a wife.\nDanielle: Remember me?", ["Danielle", "Halldór"]),  # dialogue speakers
    # escaped newlines (a literal backslash-n) separate lines too
    ("Aleksandra: What a wife.\\nNatasha: Remember me?", ["Aleksandra", "Natasha"]),
    ("your brother!\\nValerie Smith: You saved my life!", ["Valerie Smith"]),
    ("Tomasz spent a year as the assistant to Tomasz Wrzeszcz.", ["Tomasz", "Tomasz Wrzeszcz"]),  # mentions
    ("Mary Young and James Brown called", ["James Brown", "Mary Young"]),  # frequent surnames that are adjectives
    ("Amanda's daughter", ["Amanda"]),  # possessive
    # issue #18, this stop: single names in context, name lines, surname particles, one speaker
    ("She named him Torvald", ["Torvald"]),  # a naming verb
    ("Everyone calls me Quirijn", ["Quirijn"]),
    ("Miroslav, can I call you back?", ["Miroslav"]),  # a text that opens by addressing someone
    ("Don't go yet, Zdenka!", ["Zdenka"]),  # direct address: comma, name, "!"
    ("Oh no! said Ninfa", ["Ninfa"]),  # a speech verb before a (rare) census first name
    ("Quirijn Aldenhoven\\nSenior buyer\\nAcme", ["Quirijn Aldenhoven"]),  # a line holding only a name
    ("a letter from Geertje van der Sluis arrived", ["Geertje van der Sluis"]),  # particles inside a name
    ("it all ended.\\nJimmy: You saved my life", ["Jimmy"]),  # one speaker after a line break
    ("Rosa: What a wife.\\nAngel: Remember me", ["Angel", "Rosa"]),  # a dialogue: "Angel" is a word too
])
def test_finds_names(recognizer, text, expected):
    assert names(recognizer, text) == expected


@pytest.mark.parametrize("text", [
    "I called Wells Fargo and Chase Bank, then Capital One and Synchrony about the loan.",
    "Lincoln Financial Group and Ace Cash Express sent letters.",
    "Will you call me? May I ask again? Grant the request. Hope this helps.",  # common words, sentence starts
    "The Rewards Points and the First Payment were late; Relationship Banker said no.",
    "mary smith and john green wrote in lower case",
    "MARY SMITH WROTE IN CAPITALS",
    "Checking Acct was charged twice.",  # English word + unknown word
    "It was late in March; Summer came.",
    "I called Wells Fargo, Navient? No.",  # a comma after a company name is no direct address
    "Wells Fargo\\nCustomer service\\nFax: 555\\nRe: loan",  # a line of surnames; label abbreviations
    "She named it the Payment Plan",  # English words after a naming verb
    "I said Navient would pay",  # a speech verb vouches only for census first names
])
def test_skips_companies_common_words_and_lower_case(recognizer, text):
    assert names(recognizer, text) == []


def test_ambiguous_first_name_needs_a_surname(recognizer):
    assert names(recognizer, "Ask Grant about it") == []
    assert names(recognizer, "Ask Grant Hoffman about it") == ["Grant Hoffman"]


def test_spacy_person_anchors_a_list():
    """In full mode a person tagged by spaCy's NER vouches for a surname listed next to it."""
    text = "The team: Xyzzo, Becker"
    doc = spacy.blank("en")(text)
    doc.ents = [Span(doc, 3, 4, label="PERSON")]  # "Xyzzo"

    class Artifacts:
        tokens = doc

    recognizer = NameListRecognizer()
    assert names(recognizer, text) == []
    assert names(recognizer, text, Artifacts()) == ["Becker"]


def test_spacy_person_marks_other_mentions():
    """A one-word name spaCy tags once marks its other mentions, alone or in a run of name-like words."""
    text = "Kotoya had given Kotoya his address; verses by Elbek Eldarkhanov, then early Eldarkhanov?"
    doc = spacy.blank("en")(text)
    doc.ents = [Span(doc, 3, 4, label="PERSON"), Span(doc, 14, 15, label="PERSON")]  # 2nd Kotoya, last Eldarkhanov

    class Artifacts:
        tokens = doc

    assert names(NameListRecognizer(), text, Artifacts()) == ["Elbek Eldarkhanov", "Kotoya"]


def test_other_entity_requests_get_nothing(recognizer):
    assert recognizer.analyze("said Gladys to Logan", ["EMAIL_ADDRESS"]) == []


def test_shipped_lists_are_small_and_readable():
    sizes = {p.name: p.stat().st_size for p in NAMES_DIR.glob("*.gz")}
    assert set(sizes) == {"first.txt.gz", "last.txt.gz", "english.txt.gz", "faker_first.txt.gz",
                          "faker_last.txt.gz"} and sum(sizes.values()) < 1_000_000
    first = gzip.decompress((NAMES_DIR / "first.txt.gz").read_bytes()).decode("ascii").split()
    assert first[:2] == ["JAMES", "MARY"] and "census.gov" in (NAMES_DIR / "PROVENANCE.txt").read_text()


def test_registered_in_full_mode_only():
    with Scrubber(ScrubConfig(mode="patterns")) as scrubber:
        assert "govaudit_person_name_lists" not in scrubber.spec.custom_recognizers
    with Scrubber(ScrubConfig(mode="full", entities=["PERSON"], n_process=1)) as scrubber:
        assert "govaudit_person_name_lists" in scrubber.spec.custom_recognizers
        texts, counts = scrub_texts(["Our founders: Kónya, Becker and Vasquez. Wells Fargo paid."], scrubber=scrubber)
    assert texts == ["Our founders: <PERSON>, <PERSON> and <PERSON>. Wells Fargo paid."] and counts == {"PERSON": 3}
    with Scrubber(ScrubConfig(mode="full", entities=["PERSON"], n_process=1, builtin_recognizers=False)) as scrubber:
        assert "govaudit_person_name_lists" not in scrubber.spec.custom_recognizers
