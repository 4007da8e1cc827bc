"""Span-annotated text for token classification: JSONL / JSON with character spans, or CoNLL / IOB files.

Every document becomes a `SpanDoc`: its text, its entity spans (character offsets, end exclusive) and its words
(the evaluation units: CoNLL tokens, or `\\w+|[^\\w\\s]` runs of a JSONL text). Word tags are IOB2: the first word
touching a span is `B-<label>`, the others `I-<label>`. Errors name the file and line, never the text.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import DataConfig, DataSource
from .errors import BadInputError

__all__ = ["Span", "SpanDoc", "WORD_PATTERN", "read_span_docs", "words_of", "word_tags", "tags_to_spans",
           "tag_set", "span_format"]

WORD_PATTERN = re.compile(r"\w+|[^\w\s]")
_SPAN_KEYS = (("start", "end", "label"), ("start_position", "end_position", "entity_type"))


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


@dataclass
class SpanDoc:
    row_id: str
    text: str
    spans: list[Span]
    words: list[tuple[int, int]]
    extra: dict[str, Any] = field(default_factory=dict)

    def word_texts(self) -> list[str]:
        return [self.text[a:b] for a, b in self.words]


def words_of(text: str) -> list[tuple[int, int]]:
    """Character offsets of the words of `text` (runs of word characters, and single punctuation marks)."""
    return [m.span() for m in WORD_PATTERN.finditer(text)]


def word_tags(doc: SpanDoc) -> list[str]:
    """IOB2 tag per word: a word overlapping a span gets its label, B- on the first such word of the span."""
    tags = ["O"] * len(doc.words)
    for span in doc.spans:
        first = True
        for i, (a, b) in enumerate(doc.words):
            if a < span.end and b > span.start:
                tags[i] = f"{'B' if first else 'I'}-{span.label}"
                first = False
    return tags


def tags_to_spans(tags: list[str], words: list[tuple[int, int]]) -> list[Span]:
    """Character spans of the entities in IOB tags (lenient: an I- after O or another type starts an entity)."""
    spans: list[Span] = []
    label, start, end = None, 0, 0
    for tag, (a, b) in zip(tags, words):
        prefix, _, kind = tag.partition("-")
        if tag == "O" or not kind:
            if label is not None:
                spans.append(Span(start, end, label))
            label = None
            continue
        if prefix == "B" or kind != label:
            if label is not None:
                spans.append(Span(start, end, label))
            label, start = kind, a
        end = b
    if label is not None:
        spans.append(Span(start, end, label))
    return spans


def tag_set(docs: list[SpanDoc]) -> list[str]:
    """'O' then B-/I- tags of every entity type in `docs`, types sorted."""
    kinds = sorted({s.label for d in docs for s in d.spans})
    return ["O", *[f"{p}-{k}" for k in kinds for p in ("B", "I")]]


def span_format(source: DataSource | str | Path) -> str:
    """'conll' or 'jsonl' (a .json file may hold one JSON list of documents)."""
    path, fmt = (source.path, source.format) if isinstance(source, DataSource) else (Path(source), "auto")
    if fmt in ("conll", "jsonl"):
        return fmt
    if fmt != "auto":
        raise BadInputError(f"token classification reads JSONL or CoNLL, not {fmt}", where=str(path),
                            fix="set format: jsonl or conll")
    suffix = Path(path).suffix.lower()
    if suffix in (".conll", ".iob", ".bio", ".txt", ".tsv"):
        return "conll"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise BadInputError(f"cannot tell the format of {path}", fix="use .jsonl / .json or .conll, or set format:")


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise BadInputError(f"data file not found: {path}", fix="check data.*.path in the config")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise BadInputError(f"not UTF-8 (byte {err.start})", where=str(path), fix="re-export the file as UTF-8") from None


def _span(raw: Any, where: str, text_len: int) -> Span:
    if isinstance(raw, dict):
        for keys in _SPAN_KEYS:
            if all(k in raw for k in keys):
                start, end, label = (raw[k] for k in keys)
                break
        else:
            raise BadInputError("a span lacks start/end/label", where=where,
                                fix='spans are {"start": int, "end": int, "label": str} (end exclusive)')
    else:
        raise BadInputError("a span is not an object", where=where, fix='spans are {"start": 0, "end": 5, "label": "PER"}')
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        raise BadInputError("span start/end must be integers", where=where)
    if not isinstance(label, str) or not label.strip() or "-" in label.strip()[:2]:
        raise BadInputError("span label must be a non-empty entity type (PER, not B-PER)", where=where)
    if not 0 <= start < end <= text_len:
        raise BadInputError(f"span [{start}, {end}) is outside the text (length {text_len}) or empty", where=where,
                            fix="offsets are characters, 0-based, end exclusive")
    return Span(start, end, label.strip())


def _doc_from_object(obj: Any, mapping: DataConfig, where: str, index: int) -> SpanDoc:
    if not isinstance(obj, dict):
        raise BadInputError("a document is not a JSON object", where=where)
    text_key = mapping.text_columns[0]
    text = obj.get(text_key, obj.get("full_text") if text_key == "text" else None)
    if not isinstance(text, str) or not text.strip():
        raise BadInputError(f"missing or empty text field {text_key!r}", where=where)
    raw_spans = obj.get(mapping.label_column)
    if not isinstance(raw_spans, list):
        raise BadInputError(f"field {mapping.label_column!r} must be a list of spans", where=where,
                            fix="set data.label_column to the spans field (e.g. spans)")
    spans = sorted((_span(s, where, len(text)) for s in raw_spans), key=lambda s: (s.start, s.end))
    for left, right in zip(spans, spans[1:]):
        if right.start < left.end:
            raise BadInputError(f"overlapping spans at characters {right.start}-{left.end}", where=where,
                                fix="token classification needs non-overlapping spans")
    row_id = str(obj[mapping.id_column]) if mapping.id_column and mapping.id_column in obj else str(index)
    extra = {k: obj[k] for k in mapping.sensitive_features if k in obj}
    return SpanDoc(row_id=row_id, text=text, spans=spans, words=words_of(text), extra=extra)


def _read_jsonl(path: Path, mapping: DataConfig) -> list[SpanDoc]:
    text = _read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as err:
            raise BadInputError(f"invalid JSON: {err.msg} (line {err.lineno})", where=str(path)) from None
        return [_doc_from_object(obj, mapping, f"{path}: document {i + 1}", i) for i, obj in enumerate(items)]
    docs = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as err:
            raise BadInputError(f"invalid JSON: {err.msg}", where=f"{path}:{lineno}") from None
        docs.append(_doc_from_object(obj, mapping, f"{path}:{lineno}", len(docs)))
    return docs


def _read_conll(path: Path) -> list[SpanDoc]:
    docs: list[SpanDoc] = []
    tokens: list[str] = []
    tags: list[str] = []

    def close() -> None:
        if not tokens:
            return
        words, offset = [], 0
        for token in tokens:
            words.append((offset, offset + len(token)))
            offset += len(token) + 1
        docs.append(SpanDoc(row_id=str(len(docs)), text=" ".join(tokens), spans=tags_to_spans(tags, words),
                            words=words))
        tokens.clear()
        tags.clear()

    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        parts = line.split()
        if not parts:
            close()
            continue
        if parts[0] == "-DOCSTART-":
            continue
        if len(parts) < 2:
            raise BadInputError("a CoNLL line needs a token and a tag", where=f"{path}:{lineno}",
                                fix="one 'token ... tag' per line, a blank line between sentences")
        tag = parts[-1]
        if tag != "O" and not re.fullmatch(r"[BIES]-\S+", tag):
            raise BadInputError("the last column is not an IOB tag (O, B-X, I-X)", where=f"{path}:{lineno}")
        tokens.append(parts[0])
        tags.append({"S": "B", "E": "I"}.get(tag[0], tag[0]) + tag[1:] if tag != "O" else tag)
    close()
    return docs


def read_span_docs(source: DataSource | str | Path, mapping: DataConfig) -> list[SpanDoc]:
    """Read span-annotated documents; duplicate row ids and empty files are errors."""
    path = Path(source.path if isinstance(source, DataSource) else source)
    docs = _read_conll(path) if span_format(source) == "conll" else _read_jsonl(path, mapping)
    if not docs:
        raise BadInputError("data file has no documents", where=str(path))
    seen: set[str] = set()
    for doc in docs:
        if doc.row_id in seen:
            raise BadInputError(f"duplicate id {doc.row_id!r}", where=str(path), fix="ids must be unique")
        seen.add(doc.row_id)
    return docs
