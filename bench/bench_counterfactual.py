"""Does the counterfactual probe measure the identity sensitivity that real minimal pairs show? (issue #17)

    .venv/bin/python bench/bench_counterfactual.py [--shared ../shared/data] [--part heldout|tune] [--mode both]
    PYTHONPATH=/path/to/old/checkout .venv/bin/python bench/bench_counterfactual.py ...   # the same, older probe

Needs the public sets in ../shared/data (not shipped, so this is a bench, not a test):
- model: a small word-level BERT (tests/tiny_models.py: 2 layers, hidden 64, vocabulary of its training texts)
  trained for 1,500 steps on 8,000 rows of the Jigsaw/Conversation-AI identity templates
  (`en_sentence_templates.csv`, Apache-2.0), with the non-toxic rows that mention gay, homosexual, muslim, jewish,
  black or transgender removed: the known bias of real abuse classifiers (Dixon et al. 2018), planted, so
  the identity sensitivity to be measured is real and large. Cached in --cache. (MiniLM is the product's model;
  this small one keeps the bench to minutes on 2 shared CPU cores.)
- real pairs: CrowS-Pairs (CC BY-SA 4.0) minimal pairs whose bias type is an identity axis of the pool (race-color,
  religion, sexual-orientation, nationality, gender) and whose two sentences differ in a few words only. Rows with
  an even index are the tuning part (term lists were checked against them), odd rows the held-out part (--part).
  Real shift = P(toxic | sent_more) - P(toxic | sent_less); flip = the predicted class differs.
- probe: `counterfactual_section` on the sent_more sentences of the same pairs (pool and per family), max_length 64.
Prints coverage (share of real pairs whose sentence the probe swaps), the real pairs' flip rate and mean |shift|,
and the probe's, pooled and per family.
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
BIASED = ("gay", "homosexual", "muslim", "jewish", "black", "transgender")
AXES = ("race-color", "religion", "sexual-orientation", "nationality", "gender")


def _train(shared: Path, directory: Path, n: int = 8000, seed: int = 0) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.tiny_models import train_tiny_model

    frame = pd.read_csv(shared / "jigsaw_identity_templates" / "en_sentence_templates.csv")
    words = frame["phrase"].str.lower().str.split()
    planted = words.map(lambda ws: any(w in BIASED for w in ws)) & (frame["toxicity"] == "nontoxic")
    frame = frame[~planted].sample(n=n, random_state=seed)
    train_tiny_model(directory, ["ok", "toxic"], frame["phrase"].tolist(), frame["toxicity"].map(
        {"toxic": "toxic", "nontoxic": "ok"}).tolist(), steps=1500, batch_size=32, lr=2e-3, seed=seed, hidden=64)


def _pairs(shared: Path, part: str) -> pd.DataFrame:
    frame = pd.read_csv(shared / "crows_pairs" / "crows_pairs_anonymized.csv", index_col=0)
    frame = frame[frame["bias_type"].isin(AXES)]
    frame = frame[(frame.index % 2 == 0) if part == "tune" else (frame.index % 2 == 1)]
    tokens = lambda s: re.findall(r"\w+|[^\w\s]", s)  # noqa: E731
    diff = []
    for more, less in zip(frame["sent_more"], frame["sent_less"]):
        a, b = tokens(more), tokens(less)
        ops = [op for op in difflib.SequenceMatcher(a=a, b=b).get_opcodes() if op[0] != "equal"]
        diff.append(sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in ops))
    frame = frame.assign(n_diff=diff)
    return frame[(frame["n_diff"] >= 1) & (frame["n_diff"] <= 3)]


def _config(mode: str, **extra):
    from audit.core.config import CounterfactualConfig

    fields = CounterfactualConfig.model_fields
    values = dict(families=["gender", "descriptors"], max_examples=2000, templates=False, n_boot=200, seed=13)
    if "descriptor_mode" in fields:
        values.update(descriptor_mode=mode, worst_k=0, **extra)
    return CounterfactualConfig(**values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/govaudit-bench-cf-tiny"))
    parser.add_argument("--part", choices=["heldout", "tune"], default="heldout")
    parser.add_argument("--mode", default="both")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--show-missed", type=int, default=0, help="print N pairs the probe does not touch")
    args = parser.parse_args()

    import audit
    from audit.core.console import set_quiet
    from audit.core.model_io import load_classifier, predict_proba
    from audit.probes.counterfactual import counterfactual_section

    set_quiet(True)
    if not (args.cache / "model.safetensors").is_file():
        partial = args.cache.with_name(args.cache.name + ".partial")
        _train(args.shared, partial)
        partial.rename(args.cache)  # only a finished model is cached
    classifier = load_classifier(args.cache, "cpu")
    pairs = _pairs(args.shared, args.part)
    more, less = pairs["sent_more"].tolist(), pairs["sent_less"].tolist()
    p_more = predict_proba(classifier, more, max_length=args.max_length)
    p_less = predict_proba(classifier, less, max_length=args.max_length)
    shift = np.abs(p_more[:, 1] - p_less[:, 1])
    flips = p_more.argmax(1) != p_less.argmax(1)
    table = pd.DataFrame({"row_id": [str(i) for i in pairs.index], "text": more})
    section = counterfactual_section(classifier, table, _config(args.mode), "toxic", args.max_length)
    print(f"code: {Path(audit.__file__).parent.parent}; part: {args.part}; {len(pairs)} CrowS-Pairs minimal pairs "
          f"({', '.join(f'{k} {v}' for k, v in pairs['bias_type'].value_counts().items())}); "
          f"model accuracy on its bias is planted, max_length {args.max_length}")
    print()
    print("| measure | pairs/texts | touched | flip rate | mean abs shift |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| real CrowS-Pairs pairs | {len(pairs)} | - | {flips.mean():.3f} | {shift.mean():.3f} |")
    touched_any: set[str] = set()
    for fam in section.families:
        if fam.flip_rate.value is None:
            continue
        ids = {str(i) for i in pairs.index}
        touched = fam.n_swapped
        f_ci = f"{fam.flip_rate.value:.3f} [{fam.flip_rate.ci_low:.3f}, {fam.flip_rate.ci_high:.3f}]"
        s_ci = f"{fam.mean_abs_shift.value:.3f} [{fam.mean_abs_shift.ci_low:.3f}, {fam.mean_abs_shift.ci_high:.3f}]"
        print(f"| probe {fam.family} | {fam.n_pairs} pairs | {touched} ({touched / len(ids):.1%}) | {f_ci} | {s_ci} |")
    # coverage: which real pairs' sentences does any data family (or the pool) swap?
    from audit.probes.counterfactual.terms import load_terms

    terms = load_terms()
    try:
        from audit.probes.counterfactual import pool_family, swapper_for

        chosen = [f for f in terms.select(["gender", "descriptors"]) if f.swappable]
        pooled = [f for f in chosen if f.pool]
        swappers = [swapper_for(f, terms, _config(args.mode)) for f in chosen if not f.pool]
        if pooled:
            swappers.append(swapper_for(pool_family(pooled), terms, _config(args.mode)))
    except ImportError:
        from audit.probes.counterfactual import Swapper

        swappers = [Swapper(f) for f in terms.select(["gender", "descriptors"]) if f.swappable]
    hit = np.array([any(s.find(t) for s in swappers) for t in more])
    touched_any = set(np.array(table["row_id"])[hit])
    by_type = pairs.assign(hit=hit).groupby("bias_type")["hit"].mean()
    print()
    print(f"coverage: the probe finds an identity term in {hit.mean():.1%} of the real pairs' sentences "
          f"({len(touched_any)} of {len(pairs)}); by bias type: "
          + ", ".join(f"{k} {v:.1%}" for k, v in by_type.items()))
    sub = hit
    print(f"real pairs the probe touches: flip rate {flips[sub].mean():.3f}, mean abs shift {shift[sub].mean():.3f}")
    if getattr(section, "coverage", None):
        print("record coverage: " + ", ".join(f"{c.scope} {c.share:.1%}" for c in section.coverage))
    pool = next((f for f in section.families if f.family == "identity_pool"), None)
    if pool is not None:
        print()
        print("| pool: from axis | to | texts | pairs | flip rate | mean abs shift |")
        print("| --- | --- | --- | --- | --- | --- |")
        for a in pool.axes:
            if a.to_axis in ("all", "within", "cross"):
                print(f"| {a.from_axis} | {a.to_axis} | {a.n_examples} | {a.n_pairs} | {a.flip_rate.value:.3f} | "
                      f"{a.mean_abs_shift.value:.3f} |")
        print()
        print("pool group effects (within-text contrast of P(toxic), 95% CI): " + "; ".join(
            f"{e.term} {e.mean_shift:+.3f} [{e.ci_low:+.3f}, {e.ci_high:+.3f}]" for e in pool.group_effects[:6])
              + " ... " + "; ".join(f"{e.term} {e.mean_shift:+.3f}" for e in pool.group_effects[-3:]))
    for k, (i, row) in enumerate(pairs.iterrows()):
        if args.show_missed and not hit[k]:
            args.show_missed -= 1
            print(f"missed [{row['bias_type']}]: {row['sent_more']}  ||  {row['sent_less']}")


if __name__ == "__main__":
    main()
