"""Batched captum LayerIntegratedGradients over any HF sequence classifier's input embeddings, merged to words.

Model-agnostic: the layer is `model.get_input_embeddings()`, the forward takes input_ids + attention_mask only.
Baseline: every token replaced by the pad token except special tokens ([CLS]/[SEP]/<s>...), which are kept.
Memory: texts are truncated to `max_length`, sorted by length and attributed `batch_size` at a time (each batch
padded to its own longest text); captum evaluates at most `internal_batch_size` interpolated rows per forward pass.
Precision: the passes can run under bf16 autocast where the hardware multiplies bf16 natively (about 2x faster on such
CPUs); the convergence delta is then measured against the autocast model, and the target class is taken in fp32.
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np

from audit.core.console import progress
from audit.core.model_io import LoadedClassifier, has_native_bf16

__all__ = ["WordAttribution", "attribute_texts", "length_order", "resolve_precision"]


@dataclass
class WordAttribution:
    words: list[str]
    spans: list[tuple[int, int]]  # character span of each word in the text
    scores: np.ndarray  # signed, normalised so that sum(|scores|) == 1 (all zeros if no attribution)
    target: int
    n_steps: int
    delta: float  # captum convergence delta: sum(attributions) - (F(x) - F(baseline))
    relative_delta: float  # |delta| / |F(x) - F(baseline)|
    truncated: bool
    precision: str = "fp32"


def resolve_precision(requested: str, device) -> str:
    """'auto' -> 'bf16' where `device` multiplies bf16 natively (`has_native_bf16`), else 'fp32'."""
    if requested != "auto":
        return requested
    return "bf16" if has_native_bf16(device) else "fp32"


def _autocast(precision: str, device):
    import torch

    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device_type=getattr(device, "type", str(device)), dtype=torch.bfloat16)


@contextmanager
def _frozen(model):
    """No parameter gradients during attribution (only the embedding output needs them): less memory, faster."""
    flags = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)


def merge_words(text: str, word_ids: list[int | None], offsets: list[tuple[int, int]], token_scores: np.ndarray):
    spans: dict[int, list[int]] = {}
    sums: dict[int, float] = {}
    for position, word in enumerate(word_ids):
        if word is None:
            continue
        start, end = offsets[position]
        if word in spans:
            spans[word][0] = min(spans[word][0], start)
            spans[word][1] = max(spans[word][1], end)
            sums[word] += float(token_scores[position])
        else:
            spans[word] = [start, end]
            sums[word] = float(token_scores[position])
    keys = sorted(spans, key=lambda w: spans[w][0])
    return [text[spans[w][0]:spans[w][1]] for w in keys], [tuple(spans[w]) for w in keys], np.array([sums[w] for w in keys])


def normalise_scores(scores: np.ndarray) -> np.ndarray:
    total = np.abs(scores).sum()
    return scores / total if total > 0 else np.zeros_like(scores)


def attribute_texts(classifier: LoadedClassifier, texts: list[str], targets: list[int] | None = None, *,
                    n_steps: int = 32, internal_batch_size: int = 64, batch_size: int = 8, max_length: int = 128,
                    refine_above: float | None = None, refine_steps: int = 0, precision: str = "fp32",
                    desc: str = "attribution") -> list[WordAttribution]:
    """Word-level LIG attributions for `texts` towards `targets` (default: the predicted class), in input order.

    With `refine_above` and `refine_steps > n_steps`, examples whose relative convergence delta exceeds
    `refine_above` are attributed again with `refine_steps` in fp32 (more steps cannot lower bf16's rounding floor);
    the better of the two results is kept. `precision` is 'fp32', 'bf16' (autocast) or 'auto' (`resolve_precision`).
    """
    kwargs = dict(internal_batch_size=internal_batch_size, batch_size=batch_size, max_length=max_length)
    results = _attribute(classifier, texts, targets, n_steps=n_steps, desc=desc,
                         precision=resolve_precision(precision, classifier.device), **kwargs)
    if refine_above is None or refine_steps <= n_steps:
        return results
    redo = [i for i, r in enumerate(results) if r.relative_delta > refine_above]
    if redo:
        again = _attribute(classifier, [texts[i] for i in redo], [results[i].target for i in redo],
                           n_steps=refine_steps, desc=f"{desc} (refine)", precision="fp32", **kwargs)
        for i, better in zip(redo, again):
            if better.relative_delta < results[i].relative_delta:
                results[i] = better
    return results


def length_order(classifier: LoadedClassifier, texts: list[str], max_length: int) -> np.ndarray:
    """Positions of `texts` from the fewest tokens to the most (stable): the order in which they are batched."""
    lengths = [len(ids) for ids in classifier.tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    return np.argsort(lengths, kind="stable")


def _attribute(classifier: LoadedClassifier, texts: list[str], targets: list[int] | None, *, n_steps: int,
               internal_batch_size: int, batch_size: int, max_length: int, precision: str,
               desc: str) -> list[WordAttribution]:
    import torch
    from captum.attr import LayerIntegratedGradients

    model, tokenizer = classifier.model, classifier.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("attribution needs a fast (Rust) tokenizer for word offsets; save the model with tokenizer.json")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.unk_token_id

    def forward(input_ids, attention_mask):
        return model(input_ids=input_ids, attention_mask=attention_mask).logits

    lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
    order = length_order(classifier, texts, max_length)
    batches = [order[i:i + batch_size] for i in range(0, len(texts), batch_size)]
    results: list[WordAttribution | None] = [None] * len(texts)
    model.eval()
    with _frozen(model):
        for idx in progress(batches, total=len(batches), desc=desc, unit="batch"):
            chunk = [texts[i] for i in idx]
            enc = tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt",
                            return_offsets_mapping=True, return_special_tokens_mask=True,
                            return_overflowing_tokens=False)
            input_ids = enc["input_ids"].to(classifier.device)
            mask = enc["attention_mask"].to(classifier.device)
            special = enc["special_tokens_mask"].to(classifier.device).bool()
            baseline = torch.where(special, input_ids, torch.full_like(input_ids, pad_id))
            if targets is None:
                with torch.no_grad():
                    target = forward(input_ids, mask).argmax(-1)
            else:
                target = torch.tensor([targets[i] for i in idx], device=classifier.device)
            with _autocast(precision, classifier.device):
                attributions, delta = lig.attribute(input_ids, baselines=baseline, additional_forward_args=(mask,),
                                                    target=target, n_steps=n_steps,
                                                    internal_batch_size=max(internal_batch_size, len(idx)),
                                                    return_convergence_delta=True)
            token_scores = attributions.sum(-1).detach().float().cpu().numpy()
            delta = delta.detach().float().cpu().numpy()
            offsets = enc["offset_mapping"].tolist()
            for row, i in enumerate(idx):
                words, spans, scores = merge_words(texts[i], enc.word_ids(row), offsets[row], token_scores[row])
                gap = token_scores[row].sum() - delta[row]  # F(x) - F(baseline)
                results[i] = WordAttribution(words=words, spans=spans, scores=normalise_scores(scores),
                                             target=int(target[row]), n_steps=n_steps, delta=float(delta[row]),
                                             relative_delta=float(abs(delta[row]) / max(abs(gap), 1e-6)),
                                             truncated=bool(spans) and spans[-1][1] < len(texts[i].rstrip()),
                                             precision=precision)
    return results  # type: ignore[return-value]
