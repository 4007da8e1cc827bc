"""Train the PII detector end to end (docs/scrub.md, "A trained PII detector"): encoder, data, `govaudit train`.

    pip install --target /tmp/pe --no-deps presidio-evaluator==0.3.2 faker==40.63.0 python-dotenv==1.2.4
    PYTHONPATH=/tmp/pe .venv/bin/python examples/pii_detector/train_detector.py [--n 6000] [--layers 2]

1. `bench/make_small_encoder.py --layers N`: the first N layers of all-MiniLM-L6-v2 -> work/minilm<N>
   (`--base DIR` uses another local encoder instead).
2. `bench/gen_pii_eval.py`: training sentences from the even presidio-evaluator templates plus the own templates
   (bench/data/pii_templates_own.txt) over 12 Faker locales, seed `--seed`; a dev set (even templates, en_US, seed
   `--dev-seed`). Never the odd templates or the evaluation seeds (5550123, 20261201, 31337). `--train-data` /
   `--dev-data` use existing JSONL files instead.
3. `govaudit train --config govaudit.yaml` (this folder; `--set KEY=VALUE` passes overrides) on synthetic data,
   under a recorded waiver (no real PII). Prints the run directory: use it as `scrub.detector.run`.
Everything goes to `--work` (default examples/pii_detector/work, git-ignored).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "sv_SE", "pt_BR", "en_IN", "en_AU"]
REASON = "synthetic Faker sentences (presidio-evaluator), no real PII"


def _run(args: list[str]) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=True, cwd=ROOT)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--base", type=Path, default=None, help="a local encoder directory instead of the MiniLM cut")
    parser.add_argument("--n", type=int, default=6000, help="training sentences")
    parser.add_argument("--seed", type=int, default=8100)
    parser.add_argument("--dev-n", type=int, default=1000)
    parser.add_argument("--dev-seed", type=int, default=9090)
    parser.add_argument("--locale", nargs="+", default=LOCALES)
    parser.add_argument("--train-data", type=Path, default=None)
    parser.add_argument("--dev-data", type=Path, default=None)
    parser.add_argument("--set", action="append", default=[], help="a govaudit config override, KEY=VALUE")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    py = sys.executable

    base = args.base.resolve() if args.base else work / f"minilm{args.layers}"
    if args.base is None and not base.is_dir():
        _run([py, "bench/make_small_encoder.py", "--layers", str(args.layers), "--out", str(base)])
    for name, given, generate in (
            ("train", args.train_data, ["--seed", str(args.seed), "--n", str(args.n), "--templates", "even",
                                        "--own-templates", "--locale", *args.locale]),
            ("dev", args.dev_data, ["--seed", str(args.dev_seed), "--n", str(args.dev_n), "--templates", "even"])):
        target = work / f"{name}.jsonl"
        if given is not None:
            shutil.copyfile(given, target)
        else:
            _run([py, "bench/gen_pii_eval.py", *generate, "--out", str(target)])

    settings = yaml.safe_load((HERE / "govaudit.yaml").read_text(encoding="utf-8"))
    for role in ("train", "eval"):
        settings["data"][role]["path"] = str(work / f"{'train' if role == 'train' else 'dev'}.jsonl")
    settings["model"]["base"], settings["runs"]["root"] = str(base), str(work / "runs")
    config = work / "govaudit.yaml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    runs = work / "runs"
    before = set(runs.iterdir()) if runs.is_dir() else set()
    overrides = [item for assignment in args.set for item in ("--set", assignment)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    print("+ govaudit train", flush=True)
    subprocess.run([py, "-m", "audit.cli", "train", "--config", str(config), "--allow-unscrubbed", "--reason", REASON,
                    *overrides], check=True, cwd=ROOT, env=env)
    [run] = [p for p in set(runs.iterdir()) - before if p.is_dir() and not p.name.startswith(".")]
    print(f"detector run: {run}")
    return run


if __name__ == "__main__":
    main()
