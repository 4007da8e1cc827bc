"""PERSON recognizer from name lists (finetune/scrub/recognizers/names): US Census 1990 (public domain) and Faker.

A Presidio `EntityRecognizer`. Capitalised words are looked up, accents folded ("Földesy" -> FOLDESY), in the census
first-name and surname lists, in the first names and surnames of Faker's person locales (MIT; Latin script, no
frequencies) and in a list of English words (the WordNet index of spaCy's en_core_web_sm). A Faker name counts only
if it is no English word at all ("Igor", "Kazlauskas"; not "Hope", "Wells"), and so does a compound of first names
("Eva-Lotta"); a Faker first name then counts like a
frequent census first name (alone too), a Faker surname like a census surname. Within a run of capitalised words on
one line (a possessive ends a run: "Jaka Dolinšek's Cautionary Tales"), strongest rule first:
- a first name followed by up to three surnames, initials or capitalised non-English words ("Ágnes Földesy",
  "Julieta S Almeida"); a first name that is also an English verb/adjective ("Chase", "Grant") only before a surname,
  a Faker first name that is an English word ("Sonata", "Sander") only before a surname that ends the run;
- two name-like words around an initial ("Nikolaj N Møller");
- a capitalised non-English word followed by a surname ("Homero Portillo");
- exactly two capitalised non-English words, not at a sentence start ("assistant to Nikolaj Petrussen"; weaker);
- a run of 2-4 name-like words that is a line by itself, opened by a first name or a non-English word (a letter
  head or signature: "Quirijn Aldenhoven\\nSenior buyer");
- a first name alone among the `COMMON_FIRST_NAMES` most frequent or from Faker, not an English verb/adjective
  ("said Gladys", "Mikołaj moved");
- a surname alone in the possessive, before a lower-case word and not at a sentence start ("though Hall's song");
- a single first name or non-English word after a naming verb or a greeting ("named him Torvald", "calls me Kim",
  "Hi Zdenka"), a census first name after a speech verb ("said Wendell"), or in a direct address ("Remember me,
  Alain?", a text opening "Marek, can I ...").
Lower-case surname particles (van, der, de, von, da, ...) between capitalised words keep them one run.
Then across the text: single names in a list ("founders: Kónya, Becker and Vasquez") that holds two known names (they
vouch for unknown words and for listed surnames that are English words: "Hardy, Novak and Horvat") or a person already
found (by these rules or, in full mode, by spaCy's NER); dialogue speakers ("Halldór: ..." on two or
more lines, or one line after a line break); other mentions of a word of a multi-word name found here ("Nikolaj
Petrussen ... Nikolaj") or of a one-word name spaCy tagged ("Kotoya had given Kotoya").
A surname counts if it is not an English verb/adjective/adverb and, when it is also an English noun, is among the
`COMMON_SURNAMES` most frequent ("Baker" yes, "Payment" no). A run of capitalised words holding a company or address
word ("Bank", "Street", "Financial") is never a name. Lower-case and all-capital names are not found. Names in
neither list (and Greek, Arabic, ... names written in Latin letters, which Faker lists only in their own script;
Cyrillic ones are romanized) are found only through the rules for unknown words.
"""
from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = ["NameListRecognizer", "NAMES_DIR", "COMMON_SURNAMES"]

NAMES_DIR = Path(__file__).resolve().parent / "recognizers" / "names"
COMMON_SURNAMES = 2000  # surnames this frequent count even when they are English nouns (Baker, Smith, Ward)
COMMON_FIRST_NAMES = 2500  # a first name alone counts if this frequent (Teresa, Logan; not Wen, Kia)
STRONG, SINGLE, LIST = 0.85, 0.6, 0.6
# a word; a literal escape such as "\\n" before it (text exported with escaped newlines) is a separator, not a letter
_WORD = re.compile(r"(?:\\[nrt])?([^\W\d_]+(?:['’-][^\W\d_]+)*)")
_SENTENCE_END = frozenset(".!?\n")
_LIST_JOINS = frozenset({", ", " and ", ", and ", " & ", " or ", ", or "})
# lower-case surname particles (Dutch, German, French, Spanish, Italian, Portuguese): "Hailey de Vos", "van der Berg"
_PARTICLES = frozenset("van von der den de del della di da das dos du des ter ten zu la le".split())
_PARTICLE_GAP = re.compile(r"(?:[ \t]+(?:%s))+[ \t]+" % "|".join(sorted(_PARTICLES)))
_PARTICLES_SO_FAR = re.compile(r"(?:[ \t]+(?:%s))*[ \t]+" % "|".join(sorted(_PARTICLES)))
# a single name after a naming or speech verb ("She named him Ewan", "calls me Kim", "said Igor"), in a direct
# address ("Remember me, Alain?", "Don't go to town, Rayan!", "Hi Mads") or at the start of one ("Marek, can I ...")
_NAMED_BEFORE = re.compile(r"(?:\b(?:named|nicknamed|christened|baptised|baptized|dubbed)(?:\s+(?:him|her|them|me|it))?"
                           r"|\b(?:calls?|called)\s+(?:him|her|them|me)|\bknown\s+as"
                           r"|\b(?:hi|hello|hey|dear|thanks|bye|goodbye))\s+$", re.IGNORECASE)
_SPEECH_BEFORE = re.compile(r"\b(?:said|asked|replied|answered|shouted|whispered)\s+$", re.IGNORECASE)
_ADDRESS_AFTER = re.compile(r"\s*[?!]")
_LOWER_AFTER = re.compile(r"[ \t]+[a-z]")  # "Hall's song", not "Lowe's Home Improvement"
_LOWER_COMMA = re.compile(r"\b[a-z]\w*,[ \t]+$")
_ADDRESS_OPENS = re.compile(r",\s+(?:can|could|would|will|please|i|you|do|did|are|is|have|we|let|thank|thanks)\b",
                            re.IGNORECASE)
# line labels that are no speaker names ("Fax:", "Re:") beside the English words the lists already exclude
_LABELS = frozenset("re fwd fw cc bcc attn ref tel fax mob ph pc ps nb".split())
# a run of capitalised words holding one of these names an organisation, a product or an address
_ORG_WORDS = frozenset("""
street st avenue ave road rd lane ln drive dr court ct boulevard blvd highway way place square park plaza
bank bancorp credit union financial finance funding loan loans lending lender capital cash money express pay payday
services service solutions group company co inc llc ltd corp corporation holdings partners associates trust
insurance mortgage fund investments securities exchange card cards app
university college school academy hospital clinic church center centre foundation institute agency department
county city state federal national international united american america bureau office
""".split())
# words never part of a name (spaCy's English stop words, greetings, titles, chat abbreviations)
_STOP = STOP_WORDS | frozenset("""
dear hi hello hey thanks thank please mr mrs ms miss dr prof sir madam im ive id ill pls plz txt ur ok oh ya yo
""".split())
# census names that are also common words WordNet lists as nouns only (months, places, virtues): like the English
# verbs/adjectives, trusted only next to another name
_AMBIGUOUS = frozenset("""
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday spring summer autumn winter easter christmas
america asia africa china india japan france germany spain italy ireland england paris london georgia florida
carolina virginia dakota nevada dallas denver austin houston phoenix memphis cleveland columbus chicago boston
jackson geneva vienna sydney victoria argentina brazil burma cuba israel jordan kenya lebanon
angel art baby bird bunny chance charity cherry crystal daisy destiny diamond dove fairy faith fortune genesis gift
glory gold grace guy harmony heaven holly honor hope iris ivy jade jewel joy justice lady liberty lily love lucky
major max mercy miracle misty music noble pearl penny precious rich rocky ruby sage scarlet serenity sky star storm
sugar sunny sunshine trinity unique velvet violet unity will princess king queen prince son
""".split())


@dataclass(frozen=True)
class _Lists:
    first: dict[str, int]  # first name -> frequency rank
    last: dict[str, int]  # surname -> frequency rank (1 = most frequent)
    nouns: frozenset[str]  # English words WordNet lists only as nouns
    other: frozenset[str]  # English verbs, adjectives, adverbs
    faker_first: frozenset[str]  # first names of Faker's person locales (folded keys)
    faker_last: frozenset[str]  # surnames of Faker's person locales (folded keys)


def _read(name: str) -> list[str]:
    return gzip.decompress((NAMES_DIR / name).read_bytes()).decode("utf-8").split("\n")[:-1]


@lru_cache(maxsize=1)
def _lists() -> _Lists:
    english = _read("english.txt.gz")
    return _Lists(first={name: rank for rank, name in enumerate(_read("first.txt.gz"), 1)},
                  last={name: rank for rank, name in enumerate(_read("last.txt.gz"), 1)},
                  nouns=frozenset(w[:-2] for w in english if w.endswith("\tn")),
                  other=frozenset(w for w in english if not w.endswith("\tn")) | _AMBIGUOUS,
                  faker_first=frozenset(map(_fold, _read("faker_first.txt.gz"))),
                  faker_last=frozenset(map(_fold, _read("faker_last.txt.gz"))))


def _fold(word: str) -> str:
    """Upper-case ASCII key: accents removed, apostrophes and hyphens dropped ("O'Brien" -> OBRIEN)."""
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii")
    return plain.replace("'", "").replace("’", "").replace("-", "").upper()


def _base_forms(lower: str) -> tuple[str, ...]:
    """The word and what it may be inflected from ("laughed" -> "laugh", "technologies" -> "technology")."""
    forms = [lower]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"), ("ing", ""),
                         ("ing", "e")):
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 3:
            forms.append(lower[:-len(suffix)] + repl)
    return tuple(forms)


def _capitalised(word: str) -> bool:
    """Title-case word ("Mary", "McDonald", "O'Brien") or an initial; not "USA", not "mary"."""
    return word[:1].isupper() and (len(word) == 1 or any(c.islower() for c in word[1:]))


class _Word:
    """One capitalised word and what the lists say about it."""

    __slots__ = ("start", "end", "possessive", "initial", "title", "english", "ambiguous", "first", "weak_first",
                 "alone", "listed", "any_surname", "surname", "common_surname", "blocked")

    def __init__(self, text: str, start: int, end: int, lists: _Lists) -> None:
        self.possessive = text.endswith(("'s", "’s"))  # "Amanda's"
        if self.possessive:
            text, end = text[:-2], end - 2
        self.start, self.end = start, end
        self.initial = len(text) == 1
        key, lower = _fold(text), text.lower()
        self.ambiguous = lower in lists.other  # also an English verb/adjective/adverb ("Will", "Young")
        self.english = self.ambiguous or any(f in lists.nouns or f in lists.other for f in _base_forms(lower))
        self.title = all(p[:1].isupper() and p[1:].islower() for p in re.split("[-'’]", text) if p)
        # a Faker first name counts if it is no English word at all ("Igor"; not "Hope", "Wells", "Texas"), and so does
        # a compound of first names ("Eva-Lotta", "Mary-Kate")
        parts = text.split("-")
        compound = len(parts) > 1 and all(_fold(p) in lists.first or _fold(p) in lists.faker_first for p in parts)
        faker_first = (key in lists.faker_first or compound) and not self.english
        self.first = not self.initial and (key in lists.first or faker_first)
        # a Faker first name that is an English word ("Sonata", "Mare"): a first name only before a known surname that
        # ends the run ("Sonata Narušis"; not "West Lake Portfolio")
        self.weak_first = not (self.initial or self.first) and key in lists.faker_first
        self.alone = self.first and not self.ambiguous and len(key) > 2 and (
            faker_first or lists.first.get(key, COMMON_FIRST_NAMES + 1) <= COMMON_FIRST_NAMES)
        rank = lists.last.get(key, 0)
        # a census surname (maybe also an English noun) or a Faker one that is no English word
        self.any_surname = bool(rank) or key in lists.faker_last  # in a surname list, maybe an English word too
        self.listed = (bool(rank) or key in lists.faker_last and not self.english) and not self.ambiguous
        self.surname = self.listed and (not self.english or rank <= COMMON_SURNAMES)
        self.common_surname = 0 < rank <= COMMON_SURNAMES  # "Young", "Brown": after a first name
        self.blocked = lower in _ORG_WORDS

    @property
    def namelike(self) -> bool:
        """A first name that is no English verb/adjective, a surname, or an unknown word (not an initial)."""
        return (self.first and not self.ambiguous) or self.listed or self.unknown

    @property
    def unknown(self) -> bool:
        """A capitalised word that is neither a listed name nor an English word ("Irenke", "Sörös")."""
        return self.title and not (self.first or self.english or self.initial)


def _runs(text: str, lists: _Lists) -> list[list[_Word]]:
    """Runs of capitalised words separated by spaces (or an initial's "."), stop words excluded. Surname particles
    ("van den", "de", "von") between two capitalised words join them: "Frits van den Heuvel" is one run."""
    runs: list[list[_Word]] = []
    prev_end = -1
    for match in _WORD.finditer(text):
        word = match.group(1)
        stop = (len(word) > 1 or word == "I") and re.split("['’]", word.lower())[0] in _STOP  # "I'm", not "J."
        if stop or not _capitalised(word):
            if not (prev_end >= 0 and word in _PARTICLES and _PARTICLES_SO_FAR.fullmatch(text, prev_end, match.start(1))):
                prev_end = -1
            continue
        gap = text[prev_end:match.start(1)] if prev_end >= 0 else None  # an escape before the word breaks a run
        item = _Word(word, match.start(1), match.end(1), lists)
        if gap is not None and (not gap.strip(" \t") or (gap.rstrip(" \t") == "." and runs[-1][-1].initial)
                                or _PARTICLE_GAP.fullmatch(gap)):
            runs[-1].append(item)
        else:
            runs.append([item])
        prev_end = -1 if item.possessive else match.end()  # "Jaka Dolinšek's Cautionary Tales": the name ends
    return runs


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t\"'“‘(>*-")
    return not before or before[-1] in _SENTENCE_END or before.endswith("\\n")


def _line_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t>*-")
    return not before or before[-1] == "\n" or before.endswith("\\n")


def _match_run(text: str, run: list[_Word]) -> list[tuple[int, int, float, str]]:
    """Names in one run of capitalised words: (start, end, score, rule)."""
    out = []
    i = 0
    while i < len(run):
        word = run[i]
        rest = []
        for nxt in run[i + 1:i + 4]:
            if not (nxt.listed or nxt.common_surname or nxt.initial or nxt.unknown or (nxt.first and not nxt.english)):
                break
            rest.append(nxt)
        if rest and ((word.first and not word.ambiguous) or (word.first and any(w.surname for w in rest))
                     or (word.weak_first and any(w.surname for w in rest) and i + len(rest) == len(run) - 1)):
            last = rest[-1]
            end = last.end + (1 if last.initial and text[last.end:last.end + 1] == "." else 0)
            out.append((word.start, end, STRONG, "first name + surname/initial/capitalised word"))
            i += 1 + len(rest)
        elif i + 2 < len(run) and run[i + 1].initial and word.namelike and run[i + 2].namelike:
            out.append((word.start, run[i + 2].end, STRONG, "name + initial + name"))
            i += 3
        elif word.unknown and i + 1 < len(run) and run[i + 1].listed:
            out.append((word.start, run[i + 1].end, STRONG, "capitalised word + surname"))
            i += 2
        elif i == 0 and len(run) == 2 and word.unknown and run[1].unknown and not _sentence_start(text, word.start):
            out.append((word.start, run[1].end, SINGLE, "two capitalised non-English words"))
            i += 2
        elif (i == 0 and 2 <= len(run) <= 4 and (word.unknown or (word.first and not word.ambiguous))
              and all(w.namelike for w in run) and _whole_line(text, run)):
            out.append((word.start, run[-1].end, SINGLE, "a line holding only a name (letter head, signature)"))
            i += len(run)
        else:
            if len(run) == 1 and word.alone:
                out.append((word.start, word.end, SINGLE, "first name"))
            elif len(run) == 1 and (word.unknown or (word.first and not word.ambiguous)) and _in_name_context(text, word):
                out.append((word.start, word.end, SINGLE, "a name after a naming/speech verb or in a direct address"))
            elif (len(run) == 1 and word.possessive and word.surname and not _sentence_start(text, word.start)
                  and _LOWER_AFTER.match(text, word.end + 2)):
                out.append((word.start, word.end, SINGLE, "a surname's possessive"))
            i += 1
    return out


def _whole_line(text: str, run: list[_Word]) -> bool:
    """The run is a line by itself: nothing but spaces between it and the line breaks (or the text's ends)."""
    after = text[run[-1].end:].lstrip(" \t")
    return _line_start(text, run[0].start) and (not after or after[0] == "\n" or after.startswith("\\n"))


def _in_name_context(text: str, word: _Word) -> bool:
    """A naming verb or a greeting before it (a speech verb for census first names), a comma before it and "?"/"!"
    after it, or a text that opens with it and a comma and goes on addressing someone ("Marek, can I ...")."""
    before = text[max(0, word.start - 40):word.start]
    if _NAMED_BEFORE.search(before) or (word.first and _SPEECH_BEFORE.search(before)):
        return True
    if _LOWER_COMMA.search(before) and _ADDRESS_AFTER.match(text, word.end):  # not a list of companies
        return True
    return not text[:word.start].strip() and bool(_ADDRESS_OPENS.match(text, word.end))


def _match_lists(text: str, runs: list[list[_Word]], found: list[tuple[int, int, float, str]],
                 ) -> list[tuple[int, int, float, str]]:
    """Single names in a list ("A, B and C") that holds two known names or a person already found."""
    out: list[tuple[int, int, float, str]] = []
    chain: list[list[_Word]] = []
    for run in [*runs, []]:
        if chain and run and text[chain[-1][-1].end:run[0].start] in _LIST_JOINS:
            chain.append(run)
            continue
        names = [r[0] for r in chain if len(r) == 1 and (r[0].surname or r[0].alone)]
        if len(names) >= 2 and all(len(r) == 1 and (r[0] in names or r[0].unknown or r[0].any_surname) for r in chain):
            names = [r[0] for r in chain]  # two known names vouch for unknown words and listed surnames (Field, Hardy)
        anchored = len(names) >= 2 or any(s < r[-1].end and r[0].start < e for r in chain for s, e, *_ in found)
        if len(chain) >= 2 and anchored:
            out.extend((w.start, w.end, LIST, "name in a list of names") for w in names
                       if not any(s < w.end and w.start < e for s, e, *_ in found))
        chain = [run]
    return out


def _match_speakers(text: str, runs: list[list[_Word]], found: list[tuple[int, int, float, str]],
                    ) -> list[tuple[int, int, float, str]]:
    """Speakers: two or more lines that start with a name-like word and a colon ("Halldór: ..."; then census first
    names that are also words, "Ruby:", speak too), or one such line after a line break whose word is a census first
    name or no English word ("...!\\nJimmy: You saved"); label abbreviations ("Fax:", "Re:") never."""
    labels = [r[0] for r in runs if len(r) == 1 and text[r[0].end:r[0].end + 1] == ":" and _line_start(text, r[0].start)
              and text[r[0].start:r[0].end].lower() not in _LABELS]
    if len([w for w in labels if w.namelike]) >= 2:  # a dialogue: census first names that are words speak too
        speakers = [w for w in labels if w.namelike or w.first]
    else:  # otherwise a census first name or a non-English word after a line break ("...!\nJimmy: You saved")
        speakers = [w for w in labels if w.start > 0 and (w.first or w.unknown)]
    if not speakers:
        return []
    return [(w.start, w.end, SINGLE, "dialogue speaker") for w in speakers
            if not any(s < w.end and w.start < e for s, e, *_ in found)]


def _match_mentions(text: str, runs: list[list[_Word]], found: list[tuple[int, int, float, str]],
                    ner: list[tuple[int, int, float, str]], other_ents: frozenset[str] = frozenset(),
                    ) -> list[tuple[int, int, float, str]]:
    """Runs of up to three name-like words holding a word of a multi-word name found here ("... to Nikolaj
    Petrussen", then "Nikolaj") or a one-word name spaCy tagged in the same text ("Kotoya had given Kotoya": spaCy
    tags the second only; "verses from Elbek Eldarkhanov's ... early Eldarkhanov?"). A spaCy word counts only if it
    occurs at most twice and spaCy tags no mention of it as another type (a company named again and again, tagged
    PERSON once and ORG elsewhere, is no name)."""
    parts = {part for s, e, *_ in found for part in text[s:e].split() if " " in text[s:e].strip() and len(part) > 1}
    words = [text[s:e] for s, e, *_ in ner if " " not in text[s:e].strip() and len(text[s:e]) > 2]
    parts |= {w for w in words if w not in other_ents and len(re.findall(r"\b%s\b" % re.escape(w), text)) <= 2}
    out = []
    for run in runs:
        if len(run) > 3 or any(s < run[-1].end and run[0].start < e for s, e, *_ in found + ner):
            continue
        if any(text[w.start:w.end] in parts for w in run) and all(w.namelike for w in run):
            out.append((run[0].start, run[-1].end, SINGLE, "another mention of a name"))
    return out


class NameListRecognizer(EntityRecognizer):
    """PERSON from the census and Faker first-name and surname lists (rules in the module docstring)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_entities=["PERSON"], name="govaudit_person_name_lists",
                         supported_language=supported_language, version="census-1990+faker-40.63.0")

    def load(self) -> None:
        self.lists = _lists()

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                ) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        runs = [run for run in _runs(text, self.lists) if not any(w.blocked for w in run)]
        found = [m for run in runs for m in _match_run(text, run)]
        doc = getattr(nlp_artifacts, "tokens", None)  # a spaCy Doc in full mode, None in patterns mode
        ner = [(e.start_char, e.end_char, 0.0, "spaCy") for e in getattr(doc, "ents", ()) if e.label_ == "PERSON"]
        found += _match_lists(text, runs, found + ner)
        found += _match_speakers(text, runs, found + ner)
        other = frozenset(e.text for e in getattr(doc, "ents", ()) if e.label_ != "PERSON")
        found += _match_mentions(text, runs, found, ner, other)
        return [self._result(*m) for m in found]

    def _result(self, start: int, end: int, score: float, rule: str) -> RecognizerResult:
        explanation = AnalysisExplanation(recognizer=self.name, original_score=score, textual_explanation=rule)
        return RecognizerResult("PERSON", start, end, score, analysis_explanation=explanation,
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
