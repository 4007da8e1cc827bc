"""Small synthetic span-annotated documents for token-classification tests (no real PII)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIRST = ["anna", "omar", "li", "maria", "john", "fatima", "pedro", "yuki", "kofi", "olga"]
CITIES = ["paris", "lagos", "lima", "oslo", "delhi", "quito"]
TEMPLATES = ["my name is {P} and i live in {C} .", "{P} moved to {C} last year", "please call {P} today",
             "the office in {C} is closed", "ask {P} about the {C} trip", "we met {P} near {C} station"]

# weat names (audit/data/terms/names.yaml names_gender), so swaps in the name-swap tests insert known words
MALE = ["John", "Paul", "Mike", "Kevin", "Steve", "Greg", "Jeff"]
FEMALE = ["Amy", "Joan", "Lisa", "Sarah", "Diana", "Kate", "Ann"]
CITY_NAMES = ["Paris", "Lagos", "Lima", "Oslo"]
SWAP_TEMPLATES = ["{P} moved to {C} last year", "we met {P} near {C} station", "ask {P} about the {C} trip",
                  "please call {P} in {C} today"]


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


def name_dependent_docs() -> list[dict]:
    """Male names are persons and the city a location; after a female name nothing is tagged: the model's other
    entities depend on the name."""
    docs = []
    for i in range(160):
        template, city = SWAP_TEMPLATES[i % len(SWAP_TEMPLATES)], CITY_NAMES[(i // 4) % len(CITY_NAMES)]
        for kind, names in (("m", MALE), ("f", FEMALE)):
            name = names[(i // 2) % len(names)]
            text = template.replace("{P}", name).replace("{C}", city)
            spans = []
            if kind == "m":
                spans = sorted([{"start": text.index(name), "end": text.index(name) + len(name), "label": "PER"},
                                {"start": text.index(city), "end": text.index(city) + len(city), "label": "LOC"}],
                               key=lambda s: s["start"])
            docs.append({"id": f"{kind}{i}", "text": text, "spans": spans})
    return docs


def plain_swap_docs() -> list[dict]:
    """The same sentences with every name a person and every city a location: nothing depends on the name."""
    docs = name_dependent_docs()
    for doc in docs:
        if not doc["spans"]:
            text = doc["text"]
            name = next(n for n in FEMALE if n in text.split())
            city = next(c for c in CITY_NAMES if c in text.split())
            doc["spans"] = sorted([{"start": text.index(name), "end": text.index(name) + len(name), "label": "PER"},
                                   {"start": text.index(city), "end": text.index(city) + len(city), "label": "LOC"}],
                                  key=lambda s: s["start"])
    return docs


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def vocab_texts() -> list[str]:
    return [t.replace("{P}", " ".join(FIRST)).replace("{C}", " ".join(CITIES)) for t in TEMPLATES]


def train_token_run(tmp_path: Path, docs: list[dict], *, epochs: int = 6, vocab: list[str] | None = None,
                    **sections) -> tuple[str, list[str]]:
    """Write `docs`, build a tiny BERT base on their words (or `vocab`), `govaudit train` a token classifier
    (unscrubbed waiver); returns the run id and the `--config/--runs-root` arguments. `sections` override config
    sections (ner, ...)."""
    import yaml

    from audit.cli import main
    from tests import tiny_models

    tmp_path.mkdir(parents=True, exist_ok=True)
    write_jsonl(tmp_path / "data.jsonl", docs)
    base = tiny_models.make_tiny_token_model(tmp_path / "base", vocab or [d["text"] for d in docs])
    config = {"name": "ner", "task": "token_classification",
              "data": {"train": {"path": "data.jsonl"}, "text_columns": ["text"], "label_column": "spans",
                       "id_column": "id"},
              "model": {"base": str(base), "max_length": 32}, "split": {"validation_size": 0.15, "test_size": 0.25},
              "train": {"epochs": epochs, "batch_size": 8, "learning_rate": 5e-3, "early_stopping_patience": 0,
                        "class_weights": False},
              "ner": {"n_boot": 50, "person_label": "PER", "name_groups": ["male", "female"]},
              "runs": {"root": "runs"}, **sections}
    (tmp_path / "govaudit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    common = ["--config", str(tmp_path / "govaudit.yaml"), "--runs-root", str(tmp_path / "runs")]
    assert main(["--quiet", "train", *common, "--allow-unscrubbed", "--reason", "synthetic"]) == 0
    [run] = [p.name for p in (tmp_path / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run, common
