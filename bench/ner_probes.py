"""Span flips and span attributions on the tiny BERT token classifiers of the tests, on split seeds the tests never
use, and the token audit's time without and with span attribution (side by side, same run).

Two synthetic training sets (tests/ner_data.py, no real PII): `name-dependent` (after a female name nothing is
tagged, so the city's LOC depends on the name) and `plain` (every name PER, every city LOC).

    nice -n 10 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python bench/ner_probes.py --seeds 101 202 303
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")

from audit.cli import main  # noqa: E402
from audit.record.store import RunStore  # noqa: E402
from tests import ner_data  # noqa: E402


def _row(seed: int, kind: str, docs: list[dict]) -> tuple:
    tmp = Path(tempfile.mkdtemp(prefix="ner-probes-"))
    run, common = ner_data.train_token_run(tmp, docs, split={"seed": seed, "validation_size": 0.15, "test_size": 0.25})
    times = {}
    for attribution in (False, True):
        path = tmp / "govaudit.yaml"
        config = yaml.safe_load(path.read_text())
        config["attribution"] = {"enabled": attribution}
        path.write_text(yaml.safe_dump(config))
        start = time.perf_counter()
        assert main(["--quiet", "audit", *common, "--run", run]) == 0
        times[attribution] = time.perf_counter() - start
    record = RunStore(tmp / "runs").load(run)
    groups = {g.group: g for g in record.span_flips.families[0].groups}
    loc = {t.label: t for t in record.span_attribution.per_type}["LOC"]
    return (seed, kind, groups["male"].flip_rate.value, groups["female"].flip_rate.value,
            groups["female"].outside_rate.value, loc.name_share.value, loc.inside_share.value,
            record.span_attribution.n_spans, record.span_attribution.mean_relative_delta, times[False], times[True],
            os.getloadavg()[0])


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 202, 303])
    args = parser.parse_args()
    rows = [_row(seed, kind, docs) for seed in args.seeds
            for kind, docs in (("name-dependent", ner_data.name_dependent_docs()), ("plain", ner_data.plain_swap_docs()))]
    print("| seed | model | flip male | flip female | female outside | LOC name share | LOC inside | spans | "
          "mean rel. delta | audit s, no attribution | audit s, attribution | load |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.3f} | {r[7]} | "
              f"{r[8]:.3f} | {r[9]:.1f} | {r[10]:.1f} | {r[11]:.1f} |")


if __name__ == "__main__":
    main_cli()
