"""Small synthetic span-annotated documents for token-classification tests (no real PII)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIRST = ["anna", "omar", "li", "maria", "john", "fatima", "pedro", "yuki", "kofi", "olga"]
CITIES = ["paris", "lagos", "lima", "oslo", "delhi", "quito"]
TEMPLATES = ["my name is {P} and i live in {C} .", "{P} moved to {C} last year", "please call {P} today",
             "the office in {C} is closed", "ask {P} about the {C} trip", "we met {P} near {C} station"]


def make_docs(n: int, seed: int = 0) -> list[dict]:
    """JSONL-style documents {id, text, spans: [{start, end, label}]} with PER and LOC spans."""
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(n):
        template = TEMPLATES[i % len(TEMPLATES)]
        values = {"P": FIRST[int(rng.integers(len(FIRST)))].title(), "C": CITIES[int(rng.integers(len(CITIES)))].title()}
        text, spans = "", []
        for part in template.replace("{P}", "\x00P\x00").replace("{C}", "\x00C\x00").split("\x00"):
            if part in values:
                spans.append({"start": len(text), "end": len(text) + len(values[part]),
                              "label": "PER" if part == "P" else "LOC"})
                text += values[part]
            else:
                text += part
        docs.append({"id": f"d{i}", "text": text, "spans": spans})
    return docs


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def vocab_texts() -> list[str]:
    return [t.replace("{P}", " ".join(FIRST)).replace("{C}", " ".join(CITIES)) for t in TEMPLATES]
