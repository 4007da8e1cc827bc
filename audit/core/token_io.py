"""Token classifiers: word-aligned encoding, safe loading (safetensors, offline) and batched word-tag prediction.

Words are encoded with `is_split_into_words`; the first sub-word token of a word carries the word's tag (the other
sub-words and the special tokens are ignored, target -100), and predicts it. Words cut off by `max_length` are
predicted 'O' and counted by `truncated_words`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BadInputError
from .model_io import load_pretrained

__all__ = ["IGNORE", "EncodedWords", "encode_words", "LoadedTokenClassifier", "load_token_classifier",
           "predict_word_tags", "predict_word_scores"]

IGNORE = -100


@dataclass
class EncodedWords:
    ids: list[list[int]]
    first_token: list[list[int]]  # per document: token index of each word's first sub-word, -1 if cut off

    def targets(self, word_labels: list[list[int]]) -> list[list[int]]:
        """Per-token targets: the word's label on its first sub-word, IGNORE elsewhere."""
        out = []
        for ids, firsts, labels in zip(self.ids, self.first_token, word_labels):
            row = [IGNORE] * len(ids)
            for position, label in zip(firsts, labels):
                if position >= 0:
                    row[position] = label
            out.append(row)
        return out

    @property
    def truncated_words(self) -> int:
        return sum(1 for firsts in self.first_token for p in firsts if p < 0)


def encode_words(tokenizer: Any, words: list[list[str]], max_length: int) -> EncodedWords:
    """Token ids (unpadded, truncated) of pre-split words and where each word starts; needs a fast tokenizer."""
    if not getattr(tokenizer, "is_fast", False):
        raise BadInputError("token classification needs a fast tokenizer (word alignment)",
                            fix="use a model directory with a tokenizer.json")
    ids: list[list[int]] = []
    firsts: list[list[int]] = []
    for start in range(0, len(words), 512):
        chunk = words[start : start + 512]
        enc = tokenizer(chunk, is_split_into_words=True, truncation=True, max_length=max_length, padding=False,
                        return_attention_mask=False, return_token_type_ids=False)
        for j, row in enumerate(chunk):
            word_ids = enc.word_ids(j)
            first = [-1] * len(row)
            for position, word in enumerate(word_ids):
                if word is not None and first[word] < 0:
                    first[word] = position
            ids.append(enc["input_ids"][j])
            firsts.append(first)
    return EncodedWords(ids=ids, first_token=firsts)


@dataclass
class LoadedTokenClassifier:
    model: Any
    tokenizer: Any
    labels: list[str]
    path: Path
    device: Any


def load_token_classifier(path: str | Path, device: str | None = None) -> LoadedTokenClassifier:
    """A token classifier (safetensors, no remote code) and its tokenizer from a local directory."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = Path(path)
    if not path.is_dir() or not any(path.glob("*.safetensors")):
        raise BadInputError(f"no token classifier (*.safetensors) in {path}",
                            fix="train one with task: token_classification, or point to a local HF model directory")
    from transformers import AutoModelForTokenClassification

    model, tokenizer, labels, target = load_pretrained(path, AutoModelForTokenClassification, device, "token classifier")
    return LoadedTokenClassifier(model=model, tokenizer=tokenizer, labels=labels, path=path, device=target)


def predict_word_tags(model: Any, encoded: EncodedWords, labels: list[str], pad_id: int, *, batch_size: int = 64,
                      device: Any = None, autocast: Any = None) -> list[list[str]]:
    """The tag of each word (its first sub-word's argmax), batched shortest-first with dynamic padding."""
    scored = predict_word_scores(model, encoded, labels, pad_id, batch_size=batch_size, device=device,
                                 autocast=autocast)
    return [[tag for tag, _ in row] for row in scored]


def predict_word_scores(model: Any, encoded: EncodedWords, labels: list[str], pad_id: int, *, batch_size: int = 64,
                        device: Any = None, autocast: Any = None) -> list[list[tuple[str, float]]]:
    """(tag, softmax probability of that tag) of each word's first sub-word; words cut off are ('O', 0.0)."""
    import contextlib

    import torch

    device = device or next(model.parameters()).device
    autocast = autocast or contextlib.nullcontext
    n = len(encoded.ids)
    order = np.argsort([len(s) for s in encoded.ids], kind="stable")
    out: list[list[tuple[str, float]]] = [[] for _ in range(n)]
    was_training = model.training
    model.eval()
    with torch.inference_mode(), autocast():
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encoded.ids[i]) for i in rows)
            input_ids = np.full((len(rows), width), pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                input_ids[j, : len(encoded.ids[i])] = encoded.ids[i]
                mask[j, : len(encoded.ids[i])] = 1
            logits = model(input_ids=torch.from_numpy(input_ids).to(device),
                           attention_mask=torch.from_numpy(mask).to(device)).logits
            prob, best = torch.softmax(logits.float(), dim=-1).max(dim=-1)
            prob, best = prob.cpu().numpy(), best.cpu().numpy()
            for j, i in enumerate(rows):
                out[i] = [(labels[best[j, p]], float(prob[j, p])) if p >= 0 else ("O", 0.0)
                          for p in encoded.first_token[i]]
    model.train(was_training)
    return out
