"""Scrub time and peak memory vs the size of ONE dense-PII text (patterns mode unless --mode full).

    .venv/bin/python bench/bench_scrub_long.py [--sizes 1 2 5] [--mode patterns] [--seed 3]

Each text is generated afresh: sentences of filler words with an e-mail address, a phone number or an SSN about
every 60 characters, cut to SIZE MB. Each size runs in its own subprocess (peak RSS is per size). Prints a table:
MB, seconds, seconds per MB (flat = linear), entities replaced, peak RSS MB, and whether any original value survived.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = "the lender said my account was closed after I called about the refund and fees on the loan".split()


def dense_text(mb: float, seed: int) -> tuple[str, list[str]]:
    rng = random.Random(seed)
    parts, values, size = [], [], 0
    while size < mb * 1_000_000:
        kind = rng.randrange(3)
        value = (f"user{rng.randrange(10**6)}@example.com" if kind == 0 else
                 f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}" if kind == 1 else
                 f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}")
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9)))
        sentence = f"{words.capitalize()} {'email' if kind == 0 else 'phone' if kind == 1 else 'SSN'} {value}. "
        parts.append(sentence)
        values.append(value)
        size += len(sentence)
    return "".join(parts), values


def one(mb: float, mode: str, seed: int) -> dict:
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    sys.path.insert(0, str(ROOT))
    from audit.core.config import ScrubConfig
    from finetune.scrub import Scrubber

    text, values = dense_text(mb, seed)
    with Scrubber(ScrubConfig(mode=mode, n_process=1)) as scrubber:
        started = time.perf_counter()
        result = scrubber.scrub([text])[0]
        seconds = time.perf_counter() - started
    left = sum(v in result.text for v in values[:2000])
    return {"mb": mb, "seconds": seconds, "replaced": sum(result.counts.values()), "values": len(values),
            "survived_of_first_2000": left, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="*", default=[1, 2, 5])
    parser.add_argument("--mode", default="patterns", choices=["patterns", "full"])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.mode, args.seed)))
        return 0
    print(f"mode {args.mode}, seed {args.seed}, one text per size, n_process 1")
    print("| MB | seconds | s/MB | entities replaced / values | survived (first 2000) | peak RSS MB |\n| --- | --- | --- | --- | --- | --- |")
    for mb in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--one", str(mb), "--mode", args.mode, "--seed", str(args.seed)],
                              capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {mb:g} | {row['seconds']:.1f} | {row['seconds'] / mb:.1f} | {row['replaced']} / {row['values']} | "
              f"{row['survived_of_first_2000']} | {row['peak_rss_mb']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
