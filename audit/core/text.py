"""Text from run records made safe to show, one definition for the report, the dashboard, the gate and the CLI.

- `neutralise`: bidirectional-override and other invisible control characters (U+202A-U+202E, U+2066-U+2069,
  U+200E/U+200F, U+061C, zero-width and other format characters, C0/C1 controls other than tab and newline) become
  visible escapes such as `[U+202E]`, so a string cannot display reversed or hidden text ("Trojan Source").
- `break_autolinks`: URL schemes, `www.` and e-mail `@` get a zero-width space so no Markdown renderer (GFM
  autolink literals included) turns them into links; the text still reads the same.
- `markdown_inline`: both, plus a backslash before every Markdown / HTML special character, on one line.
- `plain`: `neutralise` on one line (terminal output, CSV-free text).
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["BIDI_CONTROLS", "break_autolinks", "markdown_inline", "neutralise", "plain"]

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZWSP = "\u200b"
_KEEP = frozenset("\t\n")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|file|javascript|data|xmpp)(?=:)")
_WWW = re.compile(r"(?i)\b(www)(?=\.)")


def _hidden(ch: str) -> bool:
    if ch in _KEEP:
        return False
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def neutralise(text: object) -> str:
    """`text` with every bidi / invisible control character replaced by a visible `[U+XXXX]`."""
    value = str(text)
    if value.isascii() and value.isprintable():
        return value
    return "".join(f"[U+{ord(ch):04X}]" if _hidden(ch) else ch for ch in value)


def break_autolinks(text: str) -> str:
    """Insert a zero-width space into URL schemes, `www.` and `@` so they are not auto-linked."""
    text = _SCHEME.sub(lambda m: m.group(1)[:-1] + _ZWSP + m.group(1)[-1], text)
    text = _WWW.sub("ww" + _ZWSP + "w", text)
    return text.replace("@", _ZWSP + "@")


def markdown_inline(text: object) -> str:
    """One line of record text for Markdown: inert (no links, images, HTML, formatting), no hidden characters."""
    return _MD_SPECIAL.sub(r"\\\1", break_autolinks(neutralise(text))).replace("\n", " ")


def plain(text: object) -> str:
    """One line of record text for a terminal: no hidden characters, no line breaks."""
    return " ".join(neutralise(text).split())
