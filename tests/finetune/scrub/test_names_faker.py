"""The Faker name lists of the PERSON recognizer (finetune/scrub/_names.py, recognizers/names/faker_*.txt.gz)."""
from __future__ import annotations

import gzip

import pytest

from finetune.scrub._names import NAMES_DIR, NameListRecognizer


@pytest.fixture(scope="module")
def recognizer() -> NameListRecognizer:
    return NameListRecognizer()


def names(recognizer: NameListRecognizer, text: str) -> list[str]:
    return sorted(text[r.start:r.end] for r in recognizer.analyze(text, ["PERSON"]))


@pytest.mark.parametrize("text, expected", [
    ("Mikołaj moved to Gdańsk last spring.", ["Mikołaj"]),  # a Faker first name alone, at a sentence start
    ("Why did Žygimantas leave so early?", ["Žygimantas"]),
    ("Why did Vsevolod leave so early?", ["Vsevolod"]),  # ru_RU's Всеволод, romanized
    ("You could tell Eva-Lotta was tired.", ["Eva-Lotta"]),  # a compound of first names (no list has it)
    ("Oddný Bergþórsdóttir signed the lease.", ["Oddný Bergþórsdóttir"]),  # Faker first name + Faker surname
    ("Ilkamar Guðmundsson signed the lease.", ["Ilkamar Guðmundsson"]),  # unknown word + Faker surname
    ("The partners: Virtanen, Häkkinen and Kazlauskas.", ["Häkkinen", "Kazlauskas", "Virtanen"]),  # a list
    # a Faker first name that is an English word ("sander"), before a known surname that ends the run
    ("Sander Janssens opened the meeting.", ["Sander Janssens"]),
    # two known names in a list vouch for a listed surname that is an English word too ("hardy")
    ("Signed by Hardy, Novak and Horvat.", ["Hardy", "Horvat", "Novak"]),
    # a possessive ends a name: the words after it are no part of it
    ("a song from Jaka Dolinšek's Cautionary Tales", ["Jaka Dolinšek"]),
    ("The court sided with Kazlauskas's lawyer.", ["Kazlauskas"]),  # a surname's possessive before a lower-case word
])
def test_finds_international_names(recognizer, text, expected):
    assert names(recognizer, text) == expected


@pytest.mark.parametrize("text", [
    "Hope you moved to Texas; Wells Fargo and Victory were late.",  # Faker names that are English words
    "I wrote to Synchrony and Navient about Affirm.",
    "I got a loan with West Lake Portfolio.",  # "West": a Faker first name and an English word; the run goes on
    "I paid Chase, Citi and Discover.",
    "We drank a Coca-Cola in the Rolls-Royce.",
    "I shopped at Kazlauskas's Bakery.",  # a surname's possessive before a capitalised word: a shop's name
])
def test_english_words_in_faker_lists_are_no_names(recognizer, text):
    assert names(recognizer, text) == []


def test_faker_lists_are_latin_script_and_unweighted():
    for name in ("faker_first.txt.gz", "faker_last.txt.gz"):
        words = gzip.decompress((NAMES_DIR / name).read_bytes()).decode("utf-8").split("\n")[:-1]
        assert words == sorted(set(words)) and len(words) > 10_000
        assert not any(c.isalpha() and "\u0400" <= c <= "\u04ff" for w in words for c in w)  # no Cyrillic
    assert "Faker 40.63.0" in (NAMES_DIR / "PROVENANCE.txt").read_text()
