"""Training defaults for a newcomer (issue #16 item 7): a 7-class CFPB complaint-routing model, default settings.

Labels: the demo table's `issue` column, its 6 most frequent issues kept and the rest as `other` (7 classes).
Split: stratified 70/10/20 train/validation/test with `--split-seed` (choose defaults on one seed, report on
another). Each setting runs in its own process through `finetune.train.fit` (the stage's loop: class weights,
early stopping and best-weight restore as configured) and is scored on the test rows.

    # choose on split seed 1, report on split seed 2 (today's defaults against a candidate):
    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python bench/bench_train_defaults.py --split-seed 1 \
        --max-train 2000 --max-length 128 --settings "today:" "candidate:epochs=8,learning_rate=1e-4"
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
DEMO = ROOT / "audit/data/demo/cfpb_payday_complaints.csv"


def load_routing(split_seed: int, max_train: int) -> dict[str, list[str]]:
    """train/val/test texts and 7-class routing labels of the demo table."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    demo = pd.read_csv(DEMO, dtype=str)
    top = demo["issue"].value_counts().index[:6]
    demo = pd.DataFrame({"text": demo["narrative"], "label": demo["issue"].where(demo["issue"].isin(top), "other")})
    rest, test = train_test_split(demo, test_size=0.2, stratify=demo["label"], random_state=split_seed)
    train, val = train_test_split(rest, test_size=0.125, stratify=rest["label"], random_state=split_seed)
    if max_train and len(train) > max_train:
        train, _ = train_test_split(train, train_size=max_train, stratify=train["label"], random_state=split_seed)
    return {f"{name}_{col}": frame[col].astype(str).tolist()
            for name, frame in (("train", train), ("val", val), ("test", test)) for col in ("text", "label")}


def worker(args: argparse.Namespace) -> None:
    import contextlib

    import torch

    from audit.core.config import TrainConfig
    from audit.record.metrics import classification_metrics
    from finetune.train import encode, fit, predict

    data = load_routing(args.split_seed, args.max_train)
    labels = sorted(set(data["train_label"]))
    overrides = json.loads(args.worker)
    cfg = TrainConfig(**overrides)
    started = time.perf_counter()
    out = fit("minilm", data["train_text"], data["train_label"], data["val_text"], data["val_label"], config=cfg,
              max_length=args.max_length, labels=labels, device="cpu")
    wall = time.perf_counter() - started
    mixed = out.result.hardware.get("mixed_precision", "no")
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if mixed == "bf16" else contextlib.nullcontext
    proba = predict(out.model, encode(out.tokenizer, data["test_text"], args.max_length), out.tokenizer.pad_token_id,
                    128, torch.device("cpu"), autocast)
    index = {label: i for i, label in enumerate(labels)}
    test = classification_metrics([index[y] for y in data["test_label"]], proba, labels)
    print("RESULT " + json.dumps({
        "rows": len(data["train_text"]), "test_rows": len(data["test_text"]), "steps": out.result.state.step,
        "total_steps": out.result.total_steps, "best_step": out.result.state.best_step,
        "stopped_early": out.result.state.stopped_early, "val_macro_f1": out.result.validation.macro_f1,
        "test_macro_f1": test.macro_f1, "test_accuracy": test.accuracy, "train_wall_s": round(wall, 1),
        "min_class_recall": min(c.recall for c in test.per_class.values())}))


def parse_setting(text: str) -> tuple[str, dict]:
    """'name:key=value,key=value' -> (name, TrainConfig overrides); values parsed as JSON where they can be."""
    name, _, rest = text.partition(":")
    overrides = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return name, overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split-seed", type=int, default=1)
    parser.add_argument("--max-train", type=int, default=2000, help="cap on training rows (0 = all)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--settings", nargs="+", default=["before:epochs=3,learning_rate=5e-5", "default:"],
                        help="name:key=value,... TrainConfig overrides per run ('default:' = today's defaults)")
    parser.add_argument("--log", type=argparse.FileType("a"), default=sys.stderr, help="the workers' stderr (progress)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"split seed {args.split_seed}, max_length {args.max_length}, max train rows {args.max_train}")
    print("| setting | overrides | train rows | steps (of total) | best step | val macro-F1 | test macro-F1 | "
          "test accuracy | min class recall | train wall s | load avg |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for text in args.settings:
        name, overrides = parse_setting(text)
        proc = subprocess.run([sys.executable, __file__, "--split-seed", str(args.split_seed), "--max-train",
                               str(args.max_train), "--max-length", str(args.max_length),
                               "--worker", json.dumps(overrides)], stdout=subprocess.PIPE, stderr=args.log, text=True)
        line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            sys.exit(f"{name} failed (exit {proc.returncode}); its stderr went to --log")
        r = json.loads(line[len("RESULT "):])
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"| {name} | {json.dumps(overrides) if overrides else 'defaults'} | {r['rows']} | {r['steps']} "
              f"({r['total_steps']}) | {r['best_step']} | {r['val_macro_f1']:.4f} | {r['test_macro_f1']:.4f} | "
              f"{r['test_accuracy']:.4f} | {r['min_class_recall']:.3f} | {r['train_wall_s']} | {load} |", flush=True)


if __name__ == "__main__":
    main()
