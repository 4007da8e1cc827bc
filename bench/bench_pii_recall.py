"""Per-entity PII recall of the scrubber on labelled sets (the same numbers as `govaudit scrub --evaluate`).

    .venv/bin/python bench/bench_pii_recall.py FILE [FILE ...] [--before] [--mode full|patterns] [--cfpb 1000]
        [--detector RUN_DIR [--detector-entities PERSON,STREET_ADDRESS] [--detector-min-score 0.5]]

FILE: JSONL / JSON list with text + spans (e.g. ../shared/data/presidio_synth_pii/synth_dataset_v2.json, or a set from
bench/gen_pii_eval.py). `--before`: the scrub entities of govaudit before issue #18 (the config defaults then) and
without the recognizers added by it. Prints one Markdown table per file: labelled values, values gone, recall (any
type), precision of the mapped type; definitions in docs/scrub.md. `--cfpb N`: entities flagged per 1,000 CFPB
narratives (../shared/data/cfpb_payday_complaints; already masked by CFPB, so every flag is a false positive) and the
scrub speed (texts/s, `Scrubber.scrub`, 1 process, after a warm-up) on them and on each FILE. `--detector`: add a
token-classification run's model as `scrub.detector` (docs/scrub.md); with `--cfpb` the speed is then timed
for the scrubber with and without the detector, alternately in the same process (`--speed-rounds` rounds each),
with the load average of each timing.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.core.config import DetectorConfig, ScrubConfig  # noqa: E402
from finetune.scrub import Scrubber, evaluate_scrubber, read_labelled  # noqa: E402

BEFORE_ENTITIES = ["PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
                   "IP_ADDRESS", "URL", "US_BANK_NUMBER"]
ISSUE_18_FILES = ("structured.yaml",)  # recognizer files added by issue #18, left out by --before


def _config(args: argparse.Namespace) -> ScrubConfig:
    detector = None
    if args.detector:
        detector = DetectorConfig(run=args.detector, entities=args.detector_entities.split(","),
                                  min_score=args.detector_min_score)
    if args.before:
        return ScrubConfig(mode=args.mode, entities=BEFORE_ENTITIES, detector=detector)
    return ScrubConfig(mode=args.mode, detector=detector)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--before", action="store_true")
    parser.add_argument("--mode", default="full", choices=["full", "patterns"])
    parser.add_argument("--n-boot", type=int, default=0)
    parser.add_argument("--cfpb", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--detector", type=Path, default=None)
    parser.add_argument("--detector-entities", default="PERSON,STREET_ADDRESS")
    parser.add_argument("--detector-min-score", type=float, default=0.5)
    parser.add_argument("--speed-rounds", type=int, default=2)
    args = parser.parse_args()
    config = _config(args).model_copy(update={"n_process": 1})
    with Scrubber(config) as scrubber:
        if args.before:
            skipped = [r for r in scrubber.analyzer.registry.recognizers
                       if any(r.name.startswith(p) for p in ("govaudit_struct_",))]
            for recognizer in skipped:
                scrubber.analyzer.registry.recognizers.remove(recognizer)
        for path in args.files:
            docs, data = read_labelled(path)
            started = time.perf_counter()
            section = evaluate_scrubber(scrubber, docs, data, n_boot=args.n_boot)
            scrubber.clear_cache()
            seconds = time.perf_counter() - started
            print(f"\n{path.name}: {section.n_docs} texts, {'before' if args.before else 'after'}, mode {args.mode}"
                  f"{', detector' if args.detector else ''}, "
                  f"{seconds:.1f} s\n")
            print("| entity | n | values gone | recall | precision |\n|---|---|---|---|---|")
            for name, s in sorted(section.per_entity.items(), key=lambda kv: -kv[1].support):
                fmt = lambda e: "-" if e.value is None else f"{e.value:.3f}"  # noqa: E731
                print(f"| {name} | {s.support} | {fmt(s.values_gone)} | {fmt(s.recall)} | {fmt(s.precision)} |")
        if args.cfpb:
            _cfpb(scrubber, args, [read_labelled(p)[0] for p in args.files])


def _speed(scrubber: Scrubber, texts: list[str]) -> float:
    scrubber.scrub(texts[:2])
    scrubber.clear_cache()
    started = time.perf_counter()
    scrubber.scrub(texts)
    scrubber.clear_cache()
    return len(texts) / (time.perf_counter() - started)


def _cfpb(scrubber: Scrubber, args: argparse.Namespace, labelled: list) -> None:
    from collections import Counter

    import pandas as pd

    frame = pd.read_csv(args.data / "cfpb_payday_complaints" / "complaints_payday_2023_sample.csv", dtype=str)
    texts = frame["Consumer complaint narrative"].dropna().tolist()[: args.cfpb]
    flags = Counter(kind for spans in scrubber.spans(texts) for kind, _, _ in spans)
    scrubber.clear_cache()
    print(f"\nCFPB narratives ({len(texts)}): entities flagged per 1,000 rows (all false positives), "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| entity | per 1,000 rows |\n|---|---|")
    for kind, n in flags.most_common():
        print(f"| {kind} | {1000 * n / len(texts):.1f} |")
    print(f"| total | {1000 * sum(flags.values()) / len(texts):.1f} |")
    sets = [("CFPB narratives", texts)] + [(p.name, [d.text for d in docs]) for p, docs in zip(args.files, labelled)]
    if not args.detector:
        print("\n| texts | texts/s |\n|---|---|")
        for name, batch in sets:
            print(f"| {name} | {_speed(scrubber, batch):.1f} |")
        return
    plain_config = _config(args).model_copy(update={"n_process": 1, "detector": None})
    with Scrubber(plain_config) as plain:
        print("\n| texts | round | without detector: texts/s (load) | with detector: texts/s (load) |\n|---|---|---|---|")
        for name, batch in sets:
            for round_ in range(1, args.speed_rounds + 1):
                cells = []
                for one in (plain, scrubber):
                    rate = _speed(one, batch)
                    cells.append(f"{rate:.1f} ({os.getloadavg()[0]:.1f})")
                print(f"| {name} | {round_} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
