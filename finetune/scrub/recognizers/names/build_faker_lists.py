"""Rebuild the international name lists from Faker's person providers (see PROVENANCE.txt).

    PYTHONPATH=DIR .venv/bin/python finetune/scrub/recognizers/names/build_faker_lists.py   # DIR holds faker 40.63.0

Writes faker_first.txt.gz and faker_last.txt.gz: every first name and surname of every Faker person locale (the
`first_names*` / `last_names*` lists and the romanized lists of ja_JP, zh_CN, zh_TW; Icelandic patronymics from
is_IS's stems + "son" / "dóttir"), one word a line, sorted, UTF-8, Latin script only: Cyrillic names are romanized
letter by letter (Егор -> Egor), a name with a letter of another script is left out; entries of several words ("De la
Cruz") give their capitalised words. Nothing is filtered here: the recognizer applies the same English-word and
company-word filters to these names as to the census names, and folds accents at load time. govaudit needs Faker only to rebuild these files, never at run time.
"""
from __future__ import annotations

import gzip
import importlib
import pkgutil
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Cyrillic -> Latin, letter by letter (the usual English-language spelling: Егор -> Egor, Жуков -> Zhukov; Russian,
# Ukrainian, Bulgarian, Macedonian letters)
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґўђјљњћџѓќѕ", [
    "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
    "f", "kh", "ts", "ch", "sh", "shch", "-", "y", "-", "e", "yu", "ya", "i", "yi", "ye", "g", "u", "dj", "j",
    "lj", "nj", "c", "dz", "gj", "kj", "dz"], strict=True))


def _romanize(word: str) -> str:
    """A Cyrillic word in Latin letters (other words unchanged)."""
    if not all("\u0400" <= c <= "\u04ff" for c in word if c.isalpha()):
        return word
    out = "".join(_CYRILLIC.get(c.lower(), c).replace("-", "") for c in word)
    return out[:1].upper() + out[1:]


def _latin(word: str) -> bool:
    return all(not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in word)


def _words(values: object) -> set[str]:
    """Capitalised Latin-script words of a Faker name list (a tuple, list or weighted dict of strings)."""
    if not isinstance(values, (list, tuple, dict)):
        return set()
    out = set()
    for value in values:
        if isinstance(value, str):
            out |= {_romanize(w) for w in _NAME.findall(unicodedata.normalize("NFC", value))
                    if len(w) > 1 and w[0].isupper()}
    return {w for w in out if _latin(w)}


def collect() -> tuple[dict[str, set[str]], str]:
    import faker
    from faker.providers import person

    lists: dict[str, set[str]] = {"first": set(), "last": set()}
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attr in dir(provider):
            kind = "first" if attr.startswith("first_name") else "last" if attr.startswith("last_name") else None
            if kind and (attr.startswith(f"{kind}_names") or "romanized" in attr) and "suffix" not in attr:
                lists[kind] |= _words(getattr(provider, attr))
        if module.name == "is_IS":  # Icelandic surnames are patronymics: stem + son / dóttir
            stems = _words(provider.last_names_without_suffix)
            lists["last"] |= {stem + suffix for stem in stems for suffix in ("son", "dóttir")}
    return lists, faker.VERSION


def main() -> None:
    lists, version = collect()
    for kind, names in lists.items():
        out = HERE / f"faker_{kind}.txt.gz"
        out.write_bytes(gzip.compress(("\n".join(sorted(names)) + "\n").encode("utf-8"), mtime=0))
        print(out.name, len(names), f"faker {version}")


if __name__ == "__main__":
    main()
