"""Scrub speed of this checkout against another one, interleaved round by round (a shared machine's slow spells then
hit both alike; back-to-back runs of `bench_scrub.py` differed by up to 30% between runs of the same code).

    .venv/bin/python bench/bench_scrub_ab.py OTHER_CHECKOUT [--rounds 8] [--cfpb-rows 200] [--data ../shared/data]
        [--only "patterns 2 cfpb" ...]

Each configuration (mode: patterns, full, or one-pass = full with 1 pass and no residual check; processes; texts:
the 1,500 presidio_synth_pii sentences or the demo data's first --cfpb-rows CFPB narratives) starts one worker process per checkout, each importing its own checkout's govaudit
and holding a warm `Scrubber` (pool started, every recognizer loaded). Round i times one scrub of all texts in each
worker (cache cleared, then the residual check on the texts the last pass left unchecked, as `bench_scrub.py` does),
the other checkout first in even rounds, this one first in odd rounds; the idle worker waits on a pipe. The table
shows the median texts/s and range of each checkout, and the median and range of the per-round ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ["patterns 2 cfpb", "patterns 2 sentences", "full 2 cfpb", "full 2 sentences", "full 1 cfpb",
           "full 1 sentences", "one-pass 2 cfpb", "one-pass 2 sentences"]
# one-pass: full mode, 1 pass, no residual check (what the Presidio baseline of bench_scrub.py does)
SETTINGS = {"patterns": {"mode": "patterns"}, "full": {"mode": "full"},
            "one-pass": {"mode": "full", "passes": 1, "residual_check": False}}


def worker(checkout: str, mode: str, n_process: int, texts_file: str) -> None:
    """Scrub the texts once per line read from stdin; print texts/s after each."""
    sys.path.insert(0, checkout)
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    import finetune
    from audit.core.config import ScrubConfig
    from finetune.scrub import Scrubber

    if not Path(finetune.__file__).resolve().is_relative_to(Path(checkout).resolve()):
        raise SystemExit(f"imported {finetune.__file__}, not the checkout {checkout}")
    texts = json.loads(Path(texts_file).read_text())
    config = ScrubConfig(**SETTINGS[mode], n_process=n_process, entities=[*ScrubConfig().entities, "DATE_TIME"])
    with Scrubber(config) as scrubber:
        scrubber.scrub(texts)  # warm-up: recognizers loaded, regexes compiled, pool started
        print("ready", flush=True)
        for _ in sys.stdin:
            scrubber.clear_cache()
            started = time.perf_counter()
            unchecked = [r.text for r in scrubber.scrub(texts) if r.counts and not r.checked]
            if unchecked and config.residual_check:
                scrubber.find(unchecked)
            print(len(texts) / (time.perf_counter() - started), flush=True)


def _texts(which: str, data: Path, cfpb_rows: int) -> list[str]:
    if which == "sentences":
        return [s["full_text"] for s in json.loads((data / "presidio_synth_pii" / "synth_dataset_v2.json").read_text())]
    import pandas as pd

    narratives = pd.read_csv(ROOT / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv")["narrative"]
    return narratives.dropna().astype(str).head(cfpb_rows).tolist()


def compare(other: Path, config: str, rounds: int, texts_file: Path) -> str:
    mode, n_process, which = config.split()
    checkouts = {"other": str(other), "this": str(ROOT)}
    workers = {name: subprocess.Popen([sys.executable, __file__, "--worker", path, mode, n_process, str(texts_file)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True, cwd=str(texts_file.parent))
               for name, path in checkouts.items()}
    try:
        for name, proc in workers.items():
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"the {name} checkout's worker failed to start ({checkouts[name]})")
        rates: dict[str, list[float]] = {name: [] for name in workers}
        for i in range(rounds):
            for name in (["other", "this"] if i % 2 == 0 else ["this", "other"]):
                workers[name].stdin.write("go\n")
                workers[name].stdin.flush()
                rates[name].append(float(workers[name].stdout.readline()))
    finally:
        for proc in workers.values():
            proc.stdin.close()
            proc.wait()
    ratios = [a / b for a, b in zip(rates["this"], rates["other"])]

    def cell(values: list[float], digits: int = 1) -> str:
        return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"

    ahead = sum(r > 1 for r in ratios)
    return (f"| {mode}, {n_process} process{'es' if n_process != '1' else ''}, {which} | {cell(rates['other'])} | "
            f"{cell(rates['this'])} | {cell(ratios, 3)} | {ahead}/{rounds} |")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the checkout to compare with (e.g. a `git worktree` of main)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--cfpb-rows", type=int, default=200)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--only", nargs="+", choices=CONFIGS, default=CONFIGS)
    args = parser.parse_args()
    if not (args.other / "finetune" / "scrub").is_dir():
        raise SystemExit(f"{args.other} is not a govaudit checkout (no finetune/scrub)")
    if any("sentences" in c for c in args.only) and not (args.data / "presidio_synth_pii").is_dir():
        raise SystemExit(f"presidio_synth_pii not found under {args.data}: pass --data")
    print(f"# bench_scrub_ab on {os.cpu_count()} CPU(s): this checkout ({ROOT}) against {args.other.resolve()}, "
          f"{args.rounds} interleaved rounds, load average {os.getloadavg()[0]:.1f}\n")
    print("| configuration | other: texts/s, median (range) | this | this / other per round, median (range) "
          "| rounds this ahead |\n|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.only:
            texts_file = Path(tmp) / f"{config.split()[2]}.json"
            if not texts_file.exists():
                texts_file.write_text(json.dumps(_texts(config.split()[2], args.data, args.cfpb_rows)))
            print(compare(args.other, config, args.rounds, texts_file), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
