"""Benchmark of `govaudit scrub` on the real data in ../shared/data (not shipped; the script says so if absent).

    .venv/bin/python bench/bench_scrub.py [--data /work/shared/data] [--memory-rows 100000] [--cfpb-rows 1000]
        [--skip accuracy speed fp memory] [--repeat 3]

1. Accuracy: span precision / recall / F2 per entity type on presidio_synth_pii/synth_dataset_v2.json (1,500
   sentences). A gold span counts as found when a predicted span of the mapped type covers >= 50% of its characters
   (precision: the other way round). Dataset -> Presidio names: GPE and STREET_ADDRESS -> LOCATION, DOMAIN_NAME -> URL,
   the rest unchanged; ORGANIZATION, TITLE, AGE, NRP, ZIP_CODE, US_DRIVER_LICENSE are not scrubbed by default.
2. Entities flagged per 1,000 rows on CFPB narratives (already masked by CFPB: flags are false positives) and SMS.
3. Speed: Presidio's plain AnalyzerEngine.analyze + AnonymizerEngine.anonymize one text at a time (baseline, same
   spaCy sm model, all predefined recognizers) vs what the scrub stage does per text (all passes + residual check),
   on the 1,500 synthetic sentences and on --cfpb-rows CFPB narratives from the demo data (long texts); each timed
   --repeat times in a row, the median and the range shown.
4. Peak memory (max RSS) of `govaudit scrub` as a subprocess on generated files of distinct texts.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from audit.core.config import ScrubConfig  # noqa: E402
from finetune.scrub import Scrubber  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"GPE": "LOCATION", "STREET_ADDRESS": "LOCATION", "DOMAIN_NAME": "URL"}
REPORTED = ["PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS",
            "URL", "DATE_TIME"]


# the configuration before the shipped recognizers and the windowed second pass (whole changed texts re-scrubbed)
BEFORE = {"builtin_recognizers": False, "context_window": (5, 0), "rescan_margin": 10**9}


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def span_scores(gold: list[list[tuple[str, int, int]]], pred: list[list[tuple[str, int, int]]]) -> dict[str, dict]:
    stats: dict[str, Counter] = defaultdict(Counter)
    for g_spans, p_spans in zip(gold, pred):
        for etype, s, e in g_spans:
            stats[etype]["gold"] += 1
            stats[etype]["tp_r"] += any(pt == etype and overlap((s, e), (ps, pe)) >= 0.5 * (e - s)
                                        for pt, ps, pe in p_spans)
        for etype, s, e in p_spans:
            stats[etype]["pred"] += 1
            stats[etype]["tp_p"] += any(gt == etype and overlap((s, e), (gs, ge)) >= 0.5 * (e - s)
                                        for gt, gs, ge in g_spans)
    out = {}
    for etype, c in stats.items():
        r = c["tp_r"] / c["gold"] if c["gold"] else float("nan")
        p = c["tp_p"] / c["pred"] if c["pred"] else float("nan")
        f2 = 5 * p * r / (4 * p + r) if c["gold"] and c["pred"] and (4 * p + r) > 0 else float("nan")
        out[etype] = {"n": c["gold"], "precision": p, "recall": r, "f2": f2}
    return out


def baseline_engine():
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from finetune.scrub import nlp_configuration

    nlp = NlpEngineProvider(nlp_configuration=nlp_configuration("full")).create_engine()
    return AnalyzerEngine(nlp_engine=nlp), AnonymizerEngine()


def fmt(x: float) -> str:
    return "  -  " if x != x else f"{x:.3f}"


def accuracy(data: Path) -> None:
    samples = json.loads((data / "presidio_synth_pii" / "synth_dataset_v2.json").read_text())
    texts = [s["full_text"] for s in samples]
    gold = [[(MAPPING.get(sp["entity_type"], sp["entity_type"]), sp["start_position"], sp["end_position"])
             for sp in s["spans"]] for s in samples]
    analyzer, _ = baseline_engine()
    preds = {"baseline": [[(r.entity_type, r.start, r.end) for r in analyzer.analyze(text=t, language="en")]
                          for t in texts]}
    ents = [*ScrubConfig().entities, "DATE_TIME"]
    for name, cfg in [("before", ScrubConfig(mode="full", entities=ents, **BEFORE)),
                      ("full", ScrubConfig(mode="full", entities=ents)),
                      ("patterns", ScrubConfig(mode="patterns", entities=ents))]:
        with Scrubber(cfg) as scrubber:
            preds[name] = scrubber.spans(texts)
    scores = {name: span_scores(gold, p) for name, p in preds.items()}
    print("\n## Accuracy on presidio_synth_pii/synth_dataset_v2.json (1,500 sentences; span overlap >= 50%)\n")
    names = list(scores)
    print("| entity | n | " + " | ".join(f"{n} P | {n} R | {n} F2" for n in names) + " |")
    print("|---|---:|" + "---:|" * (3 * len(names)))
    for etype in REPORTED:
        n = scores["baseline"].get(etype, {}).get("n", 0)
        cells = []
        for name in names:
            s = scores[name].get(etype, {"precision": float("nan"), "recall": float("nan"), "f2": float("nan")})
            cells += [fmt(s["precision"]), fmt(s["recall"]), fmt(s["f2"])]
        print(f"| {etype} | {n} | " + " | ".join(cells) + " |")


def _median_and_range(rates: list[float]) -> str:
    return f"{statistics.median(rates):.1f} ({min(rates):.0f}-{max(rates):.0f})" if len(rates) > 1 else f"{rates[0]:.1f}"


def _stage_speed(cfg: ScrubConfig, texts: list[str], repeat: int) -> tuple[list[float], str]:
    """texts/s of what the scrub stage does per text, `repeat` times with the same scrubber (cache cleared; the
    worker pool is started by the first run, as in a stage's first chunk): scrub (all passes), then the residual
    check on the texts the last pass did not check."""
    rates = []
    with Scrubber(cfg) as scrubber:
        scrubber.scrub(texts[:2])  # warm-up, as for the baseline
        for _ in range(repeat):
            scrubber.clear_cache()
            started = time.perf_counter()
            results = scrubber.scrub(texts)
            unchecked = [r.text for r in results if r.counts and not r.checked]
            if cfg.residual_check and unchecked:
                scrubber.find(unchecked)
            rates.append(len(texts) / (time.perf_counter() - started))
        changed = sum(bool(r.counts) for r in results)
        return rates, f"{changed} changed, {len(unchecked) if cfg.residual_check else 0} re-scanned whole"


def speed(data: Path, cfpb_rows: int, repeat: int) -> None:
    """Presidio one text at a time vs the scrub stage, on short synthetic sentences and on long CFPB narratives;
    each pipeline timed `repeat` times in a row, the median shown (and the range: a shared machine is noisy)."""
    synth = [s["full_text"] for s in json.loads((data / "presidio_synth_pii" / "synth_dataset_v2.json").read_text())]
    cfpb = pd.read_csv(ROOT / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv")["narrative"].dropna()
    cfpb = cfpb.astype(str).head(cfpb_rows).tolist()
    ents = [*ScrubConfig().entities, "DATE_TIME"]
    auto = ScrubConfig().n_process or min(os.cpu_count() or 1, 8)
    configs = [("govaudit full, 1 process", ScrubConfig(mode="full", n_process=1, entities=ents)),
               (f"govaudit full, {auto} processes (default)", ScrubConfig(mode="full", entities=ents)),
               (f"govaudit full, {auto} processes, 1 pass, no residual check (what the baseline does)",
                ScrubConfig(mode="full", entities=ents, passes=1, residual_check=False)),
               (f"govaudit patterns, {auto} processes", ScrubConfig(mode="patterns", entities=ents))]
    for title, texts in [(f"presidio_synth_pii sentences ({len(synth)}, mean {sum(map(len, synth)) / len(synth):.0f} "
                          "chars)", synth),
                         (f"CFPB narratives from the demo data ({len(cfpb)}, mean "
                          f"{sum(map(len, cfpb)) / len(cfpb):.0f} chars)", cfpb)]:
        analyzer, anonymizer = baseline_engine()
        analyzer.analyze(texts[0], language="en")  # warm-up (lazy recognizer loading)
        base_rates = []
        for _ in range(repeat):
            started = time.perf_counter()
            for text in texts:
                anonymizer.anonymize(text=text, analyzer_results=analyzer.analyze(text=text, language="en"))
            base_rates.append(len(texts) / (time.perf_counter() - started))
        base = statistics.median(base_rates)
        runs = f"median of {repeat} runs (range)" if repeat > 1 else "one run"
        print(f"\n## Speed on {title}: texts/s, {runs}, load average {os.getloadavg()[0]:.1f}\n")
        print("| pipeline | texts/s | x baseline | residual work |\n|---|---:|---:|---|")
        print(f"| baseline: Presidio analyze+anonymize, 1 text at a time | {_median_and_range(base_rates)} | 1.0x | none |")
        for label, cfg in configs:
            rates, note = _stage_speed(cfg, texts, repeat)
            value = statistics.median(rates)
            print(f"| {label} | {_median_and_range(rates)} | {value / base:.1f}x | {note} |", flush=True)


def shape(span: str) -> str:
    return re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", span)))


def false_positives(data: Path, cfpb_rows: int) -> None:
    cfpb = pd.read_csv(data / "cfpb_payday_complaints" / "complaints_payday_2023_sample.csv", dtype=str)
    sms = pd.read_csv(data / "sms_spam_collection" / "SMSSpamCollection.tsv", sep="\t", dtype=str, quoting=3)
    sets = {"cfpb (narratives, pre-masked by CFPB)": cfpb["Consumer complaint narrative"].dropna().tolist()[:cfpb_rows],
            "sms_spam_collection": sms["SMS"].dropna().tolist()}
    print("\n## Entities flagged per 1,000 rows (govaudit full mode; before = without the shipped recognizers)\n")
    print("| config | data | rows | entity | per 1,000 rows | top patterns (CFPB: text; SMS: shape) |\n"
          "|---|---|---:|---|---:|---|")
    for config_name, extra in [("before", BEFORE), ("default", {})]:
        with Scrubber(ScrubConfig(mode="full", n_process=2, **extra)) as scrubber:
            for name, texts in sets.items():
                by_type: dict[str, Counter] = defaultdict(Counter)
                results = scrubber.spans(texts)
                for text, spans in zip(texts, results):
                    for etype, s, e in spans:
                        by_type[etype][text[s:e] if name.startswith("cfpb") else shape(text[s:e])] += 1
                for etype, counter in sorted(by_type.items(), key=lambda kv: -sum(kv[1].values())):
                    top = ", ".join(f"`{k}` {v}" for k, v in counter.most_common(4)).replace("\n", " ")
                    print(f"| {config_name} | {name} | {len(texts)} | {etype} | {1000 * sum(counter.values()) / len(texts):.1f} | {top} |")


def memory(data: Path, rows_list: list[int]) -> None:
    sms = pd.read_csv(data / "sms_spam_collection" / "SMSSpamCollection.tsv", sep="\t", dtype=str, quoting=3)
    base = sms["SMS"].dropna().tolist()
    print("\n## Peak memory of `govaudit scrub` (patterns mode, 2 processes, chunk_rows 5000; distinct texts)\n")
    print("| rows | distinct texts | wall s | texts/s | max RSS parent MiB | max RSS worker MiB |\n|---:|---:|---:|---:|---:|---:|")
    for rows in rows_list:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            texts = [f"{base[i % len(base)]} (case {i})" for i in range(rows)]  # distinct: no de-duplication help
            pd.DataFrame({"cid": range(rows), "narrative": texts, "label": ["a", "b"] * (rows // 2)}).to_csv(
                tmp_path / "big.csv", index=False)
            del texts
            (tmp_path / "govaudit.yaml").write_text(
                "version: 1\ndata: {train: {path: big.csv}, text_columns: [narrative], label_column: label}\n"
                "scrub: {mode: patterns, n_process: 2}\nruns: {root: runs}\n")
            code = ("import resource,sys;from audit.cli import main;rc=main(['-q','scrub','--config',sys.argv[1]]);"
                    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
                    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)")
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "govaudit.yaml")], capture_output=True,
                                 text=True, cwd=ROOT, check=True).stdout.split()
            wall = time.perf_counter() - started
            parent, child, rc = int(out[-3]), int(out[-2]), out[-1]
            assert rc == "0", rc
            print(f"| {rows} | {rows} | {wall:.0f} | {rows / wall:.0f} | {parent / 1024:.0f} | {child / 1024:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--memory-rows", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--cfpb-rows", type=int, default=1000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["accuracy", "speed", "fp", "memory"])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each speed pipeline (median shown)")
    args = parser.parse_args()
    if not (args.data / "presidio_synth_pii" / "synth_dataset_v2.json").is_file():
        print(f"benchmark data not found under {args.data} (needs presidio_synth_pii, cfpb_payday_complaints, "
              "sms_spam_collection); pass --data PATH", file=sys.stderr)
        return 2
    print(f"# bench_scrub on {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")
    if "accuracy" not in args.skip:
        accuracy(args.data)
    if "speed" not in args.skip:
        speed(args.data, args.cfpb_rows, args.repeat)
    if "fp" not in args.skip:
        false_positives(args.data, args.cfpb_rows)
    if "memory" not in args.skip:
        memory(args.data, args.memory_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
