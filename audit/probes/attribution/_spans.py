"""captum LayerIntegratedGradients for a token classifier's predicted spans, merged to the document's words.

The attributed output of a span is the sum, over the span's words, of the logit of the tag the model predicted for
that word, read at the word's first sub-token (where the tag is predicted, `audit.core.token_io`). Layer, baseline
(pad tokens, special tokens kept), batching, bf16 autocast and the convergence delta follow `_lig.py`; a word's score
is the sum over its sub-tokens, normalised so that sum(|scores|) == 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.core.console import progress
from audit.core.token_io import LoadedTokenClassifier

from ._lig import _autocast, _frozen, normalise_scores

__all__ = ["SpanAttribution", "SpanTarget", "attribute_spans"]


@dataclass(frozen=True)
class SpanTarget:
    words: list[str]  # the document's words
    first: int  # the span's word range [first, last)
    last: int
    tag_ids: tuple[int, ...]  # the predicted tag of each of the span's words


@dataclass
class SpanAttribution:
    scores: np.ndarray  # per word of the document, normalised (words past max_length: 0)
    delta: float  # captum convergence delta
    relative_delta: float  # |delta| / |F(x) - F(baseline)|
    n_steps: int


def attribute_spans(classifier: LoadedTokenClassifier, targets: list[SpanTarget], *, n_steps: int = 32,
                    internal_batch_size: int = 64, batch_size: int = 8, max_length: int = 128,
                    precision: str = "fp32", desc: str = "span attribution") -> list[SpanAttribution]:
    """Word attributions of each span's predicted-tag logits, in input order; `precision` 'fp32' or 'bf16'."""
    import torch
    from captum.attr import LayerIntegratedGradients

    model, tokenizer = classifier.model, classifier.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("span attribution needs a fast tokenizer (word alignment); save the model with tokenizer.json")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.unk_token_id

    def forward(input_ids, attention_mask, tag_ids, positions):
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
        return (logits.gather(-1, tag_ids.unsqueeze(-1)).squeeze(-1) * positions).sum(-1)

    lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
    order = np.argsort([len(t.words) for t in targets], kind="stable")
    batches = [order[i:i + batch_size] for i in range(0, len(targets), batch_size)]
    results: list[SpanAttribution | None] = [None] * len(targets)
    model.eval()
    with _frozen(model):
        for idx in progress(batches, total=len(batches), desc=desc, unit="batch"):
            chunk = [targets[i] for i in idx]
            enc = tokenizer([t.words for t in chunk], is_split_into_words=True, padding=True, truncation=True,
                            max_length=max_length, return_tensors="pt", return_special_tokens_mask=True)
            input_ids = enc["input_ids"].to(classifier.device)
            mask = enc["attention_mask"].to(classifier.device)
            special = enc["special_tokens_mask"].to(classifier.device).bool()
            baseline = torch.where(special, input_ids, torch.full_like(input_ids, pad_id))
            tag_ids = torch.zeros_like(input_ids)
            positions = torch.zeros(input_ids.shape, dtype=torch.float32, device=classifier.device)
            word_ids = [enc.word_ids(row) for row in range(len(chunk))]
            for row, target in enumerate(chunk):
                seen: set[int] = set()
                for position, word in enumerate(word_ids[row]):
                    if word is not None and target.first <= word < target.last and word not in seen:
                        seen.add(word)
                        tag_ids[row, position] = target.tag_ids[word - target.first]
                        positions[row, position] = 1.0
            with _autocast(precision, classifier.device):
                attributions, delta = lig.attribute(input_ids, baselines=baseline,
                                                    additional_forward_args=(mask, tag_ids, positions),
                                                    n_steps=n_steps, internal_batch_size=max(internal_batch_size, len(idx)),
                                                    return_convergence_delta=True)
            token_scores = attributions.sum(-1).detach().float().cpu().numpy()
            delta = delta.detach().float().cpu().numpy()
            for row, i in enumerate(idx):
                scores = np.zeros(len(targets[i].words))
                for position, word in enumerate(word_ids[row]):
                    if word is not None:
                        scores[word] += float(token_scores[row, position])
                gap = token_scores[row].sum() - delta[row]  # F(x) - F(baseline)
                results[i] = SpanAttribution(scores=normalise_scores(scores), delta=float(delta[row]),
                                             relative_delta=float(abs(delta[row]) / max(abs(gap), 1e-6)),
                                             n_steps=n_steps)
    return results  # type: ignore[return-value]
