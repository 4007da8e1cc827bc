"""Synthetic production logs for the monitor's tests and rate measurement: a reference like `predictions.parquet`,
then windows replayed from the same process (no drift) or with one injected drift."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from audit.core.config import MonitorConfig
from audit.monitor import (LogSchema, Reference, TextDescriber, load_monitor_policy, monitoring_section,
                           parse_window, reference_stats, update_windows)

LABELS = ["no_relief", "relief"]
WORDS = [f"w{i}" for i in range(300)]
NEW_WORDS = [f"new{i}" for i in range(300)]
DRIFTS = ("none", "label_shift", "vocabulary_shift", "group_selection_falls", "group_misses_rise")


def tokenize(texts: list[str]) -> list[list[int]]:
    """Word-level ids: w<i> -> i, new<i> -> 300 + i, anything else 600 (a stand-in for the model tokenizer)."""
    return [[int(w[1:]) if w[:1] == "w" and w[1:].isdigit() else 300 + int(w[3:]) if w[:3] == "new" and w[3:].isdigit()
             else 600 for w in t.split()] for t in texts]


def _rows(rng: np.random.Generator, n: int, *, p_relief: float = 0.4, p_relief_f: float | None = None,
          new_word_share: float = 0.0, missed_f: float | None = None) -> pd.DataFrame:
    sex = rng.choice(["F", "M"], n)
    age = rng.choice(["under_62", "62_plus"], n, p=[0.8, 0.2])
    p = np.where(sex == "F", p_relief if p_relief_f is None else p_relief_f, p_relief)
    pred = (rng.random(n) < p).astype(int)
    top = 0.5 + 0.5 * rng.beta(2, 2, n)
    proba_relief = np.where(pred == 1, top, 1 - top)
    truth = np.where(rng.random(n) < 0.85, pred, 1 - pred)
    if missed_f is not None:  # P(truth relief | predicted no_relief, sex F) = missed_f: F's FNR rises, F's FPR stays
        missed = (sex == "F") & (pred == 0)
        truth = np.where(missed, (rng.random(n) < missed_f).astype(int), truth)
    lengths = rng.integers(5, 40, n)
    total = int(lengths.sum())
    words = np.where(rng.random(total) < new_word_share, np.asarray(NEW_WORDS)[rng.integers(0, 300, total)],
                     np.asarray(WORDS)[rng.integers(0, 300, total)])
    texts = [" ".join(part) for part in np.split(words, np.cumsum(lengths)[:-1])]
    return pd.DataFrame({"prediction": np.asarray(LABELS)[pred], "proba_no_relief": 1 - proba_relief,
                         "proba_relief": proba_relief, "label": np.asarray(LABELS)[truth], "text": texts,
                         "sex": sex, "age": age})


def reference_frame(seed: int, n: int = 3000) -> pd.DataFrame:
    """Held-out predictions as the audit writes them (sf_<feature> columns) plus their texts."""
    frame = _rows(np.random.default_rng(seed), n)
    return frame.rename(columns={"sex": "sf_sex", "age": "sf_age"})


def log_frame(seed: int, *, windows: int = 8, rows: int = 1000, drift: str = "none", start: int = 4) -> pd.DataFrame:
    """`windows` days of `rows` rows from 2023-05-01; from day `start` on, the named drift is injected."""
    rng = np.random.default_rng(seed + 10_000)
    parts = []
    for day in range(windows):
        on = day >= start
        kwargs = {"label_shift": {"p_relief": 0.6}, "vocabulary_shift": {"new_word_share": 0.3},
                  "group_selection_falls": {"p_relief_f": 0.2},
                  "group_misses_rise": {"missed_f": 0.5}}.get(drift, {}) if on else {}
        part = _rows(rng, rows, **kwargs)
        seconds = np.sort(rng.integers(0, 86_400, rows))
        part.insert(0, "timestamp", (pd.Timestamp("2023-05-01", tz="UTC") + pd.Timedelta(days=day)
                                     + pd.to_timedelta(seconds, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ"))
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame.loc[rng.random(len(frame)) < 0.5, "label"] = None  # half the labels have not arrived yet
    return frame


def write_log(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_csv(path, index=False)
    return path




def pii_detector(texts: list[str]) -> list[bool]:
    return ["@" in t for t in texts]


def setup(seed: int, *, window: str = "1d", text: bool = True):
    mapping = MonitorConfig(label_column="label", text_column="text" if text else None,
                            sensitive_features={"sex": "sex", "age": "age"}, window=window, chunk_rows=1500)
    schema = LogSchema(mapping, LABELS, (1,), {"sex": "sex", "age": "age"})
    ref = reference_frame(seed)
    train_texts = reference_frame(seed + 500, n=3000)["text"].tolist()
    describer = TextDescriber.from_training(tokenize, train_texts, 601, pii=pii_detector) if text else None
    stats = reference_stats(ref, schema, texts=ref["text"].tolist() if text else None, describer=describer)
    reference = Reference(stats, "synthetic", None if describer is None else np.flatnonzero(describer.seen),
                          len(ref) if text else 0)
    return schema, describer, reference, parse_window(window)


def monitor(run_dir: Path, logs: list[Path], seed: int, *, window: str = "1d", text: bool = True, policy=None):
    schema, describer, reference, spec = setup(seed, window=window, text=text)
    ingested = update_windows(run_dir, logs, schema, spec, describer=describer)
    return ingested, monitoring_section(ingested, reference, spec, schema, policy or load_monitor_policy())
