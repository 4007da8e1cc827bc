"""Token classification (task: token_classification): span data, the same fit loop with a token head, entity metrics.

Documents are split at random (seeded, not stratified: a document holds many entity types); the model is
AutoModelForTokenClassification on the base encoder, trained on IOB2 word tags (first sub-word of each word), selected
by strict micro entity F1 on the validation split, and scored on the test split (strict and partial, with CIs).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.core.config import ProjectConfig, SplitConfig, TokenAuditConfig, TrainConfig
from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text, sha256_bytes
from audit.core.spans import SpanDoc, read_span_docs, tag_set, tags_to_spans, word_tags
from audit.core.token_io import encode_words, predict_word_tags
from audit.record import DataFingerprint, EntitySection
from audit.record.entity_metrics import entity_metrics, entity_section

from ._loop import FitResult, fit_loop
from ._model import load_base_model, resolve_base_model

__all__ = ["ENTITY_PREDICTIONS_FILE", "TokenFit", "fit_tokens", "load_span_data", "split_docs", "score_docs",
           "docs_fingerprint", "write_entity_predictions", "tag_set"]

ENTITY_PREDICTIONS_FILE = "entity_predictions.jsonl"


@dataclass
class TokenFit:
    model: Any
    tokenizer: Any
    labels: list[str]
    result: FitResult


def docs_fingerprint(path: Path, docs: list[SpanDoc], role: str, fmt: str) -> DataFingerprint:
    """The file's SHA-256 and a hash of the parsed documents (ids, texts, spans)."""
    from audit.core.io import sha256_file

    canonical = json.dumps([[d.row_id, d.text, [[s.start, s.end, s.label] for s in d.spans]] for d in docs],
                           ensure_ascii=False).encode("utf-8")
    return DataFingerprint(role=role, path=str(path), format=fmt, file_sha256=sha256_file(path),
                           table_sha256=sha256_bytes(canonical), rows=len(docs), columns=["row_id", "text", "spans"])


def load_span_data(project: ProjectConfig) -> tuple[list[SpanDoc], list[SpanDoc] | None]:
    """The training documents and the optional eval documents."""
    from audit.core.spans import span_format

    if project.data.train is None:
        raise BadInputError("no training data", where="data.train", fix="set data.train in the config")
    train = read_span_docs(project.data.train, project.data)
    if not any(d.spans for d in train):
        raise BadInputError("the training documents have no entity spans", where=str(project.data.train.path),
                            fix=f"set data.label_column to the spans field ({span_format(project.data.train)} file)")
    evaluation = read_span_docs(project.data.eval, project.data) if project.data.eval is not None else None
    return train, evaluation


def split_docs(n: int, split: SplitConfig, *, has_eval: bool) -> np.ndarray:
    """Split name per document (train/validation/test, or train/validation when data.eval is the test set)."""
    test_share = 0.0 if has_eval else split.test_size
    rng = np.random.default_rng(split.seed)
    order = rng.permutation(n)
    n_test = int(round(test_share * n))
    n_val = max(1, int(round(split.validation_size * n)))
    if n - n_test - n_val < 1 or (not has_eval and n_test < 1):
        raise BadInputError(f"{n} documents are too few for the split", where="split",
                            fix="add documents or lower split.validation_size / split.test_size")
    out = np.full(n, "train", dtype=object)
    out[order[:n_test]] = "test"
    out[order[n_test : n_test + n_val]] = "validation"
    return out


def _word_targets(docs: list[SpanDoc], index: dict[str, int]) -> list[list[int]]:
    return [[index[t] for t in word_tags(d)] for d in docs]


def fit_tokens(base: str, train: list[SpanDoc], val: list[SpanDoc], *, config: TrainConfig, max_length: int,
               labels: list[str], checkpoint_dir: Path | None = None, resume: bool = False,
               compat: dict[str, Any] | None = None, device: str | None = None) -> TokenFit:
    """Fine-tune a token classifier on IOB2 word tags; the best validation strict micro-F1 weights are kept."""
    index = {label: i for i, label in enumerate(labels)}
    model, tokenizer = load_base_model(resolve_base_model(base), labels, config.seed, head="token")
    train_enc = encode_words(tokenizer, [d.word_texts() for d in train], max_length)
    val_enc = encode_words(tokenizer, [d.word_texts() for d in val], max_length)
    val_gold = [word_tags(d) for d in val]
    types = sorted({lab.partition("-")[2] for lab in labels if lab != "O"})

    def validate(model: Any, device_obj: Any, autocast: Any) -> tuple[float, Any]:
        pred = predict_word_tags(model, val_enc, labels, tokenizer.pad_token_id, batch_size=config.eval_batch_size,
                                 device=device_obj, autocast=autocast)
        metrics = entity_metrics(val_gold, pred, "strict", n_boot=0, types=types)
        return metrics.micro.f1.value or 0.0, metrics

    result = fit_loop(model, train_enc.ids, train_enc.targets(_word_targets(train, index)), val_enc.ids, [],
                      labels, config, pad_id=tokenizer.pad_token_id, checkpoint_dir=checkpoint_dir, resume=resume,
                      compat=dict(compat or {}, labels=labels, max_length=max_length, task="token_classification"),
                      device=device, validate=validate)
    return TokenFit(model=result.model, tokenizer=tokenizer, labels=labels, result=result)


def score_docs(fit: TokenFit, docs: list[SpanDoc], *, max_length: int, batch_size: int, ner: TokenAuditConfig,
               split: str, autocast: Any = None) -> tuple[EntitySection, list[dict[str, Any]]]:
    """Entity metrics of the model on `docs` and the prediction rows (offsets and labels, no text)."""
    encoded = encode_words(fit.tokenizer, [d.word_texts() for d in docs], max_length)
    pred = predict_word_tags(fit.model, encoded, fit.labels, fit.tokenizer.pad_token_id, batch_size=batch_size,
                             autocast=autocast)
    gold = [word_tags(d) for d in docs]
    types = sorted({lab.partition("-")[2] for lab in fit.labels if lab != "O"})
    section = entity_section(gold, pred, types, split=split, n_boot=ner.n_boot, ci_level=ner.ci_level, seed=ner.seed,
                             truncated_words=encoded.truncated_words, predictions_artifact=ENTITY_PREDICTIONS_FILE)
    rows = [{"row_id": d.row_id, "gold": [[s.start, s.end, s.label] for s in d.spans],
             "predicted": [[s.start, s.end, s.label] for s in tags_to_spans(tags, d.words)]}
            for d, tags in zip(docs, pred)]
    return section, rows


def write_entity_predictions(path: Path, rows: list[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))

