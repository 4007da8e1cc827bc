"""Title + name and SSN-label recognizers on a freshly generated set (not the unit-test examples), patterns mode.

    .venv/bin/python bench/bench_scrub_context.py [--seed 7] [--n 400] [--before OLD_RECOGNIZERS.yaml]

Names are random syllable strings (so no name list was tuned on them); SSNs are random 3-2-4 numbers, a third of
them numbers Presidio's US_SSN rejects (123-45-6789, 987-65-4320, 666-xx-xxxx). Controls: rejected numbers after
"order" (no SSN label) must stay. Prints the share of names replaced whole (the text is exactly the template around `<PERSON>`), SSN recall and
control false positives; `--before FILE` scores an older recognizer YAML the same way.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.core.config import ScrubConfig  # noqa: E402
from finetune.scrub import Scrubber  # noqa: E402

TITLES = ["My name is {}.", "Dear {},", "Mr. {} called.", "Name: {}", "Dr. {} wrote back", "Mrs. {} asked"]
SSN_LABELS = ["SSN: {}", "my SSN is {}.", "Social Security Number {} on file", "SS# {}", "ssn={}"]


def _name(rng: random.Random) -> str:
    syllables = ["ka", "lo", "mi", "ter", "van", "sel", "dru", "po", "ne", "rash", "ul", "bi"]
    word = lambda: "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()  # noqa: E731
    middle = f" {rng.choice('ABCDEFGHJKLMNPRST')}." if rng.random() < 0.2 else ""
    return f"{word()}{middle} {word()}"


def _rejected(rng: random.Random) -> str:
    return rng.choice(["123-45-6789", "987-65-4320", f"666-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"])


def _ssn(rng: random.Random) -> str:
    if rng.random() < 1 / 3:
        return _rejected(rng)
    sep = rng.choice(["-", " ", ""])
    return f"{rng.randint(100, 665)}{sep}{rng.randint(10, 99)}{sep}{rng.randint(1000, 9999)}"


def score(config: ScrubConfig, seed: int, n: int) -> dict[str, float]:
    rng = random.Random(seed)
    names = [(_name(rng), rng.choice(TITLES)) for _ in range(n)]
    ssns = [(_ssn(rng), rng.choice(SSN_LABELS)) for _ in range(n)]
    controls = [f"order {_rejected(rng)} shipped" for _ in range(n)]
    with Scrubber(config) as scrubber:
        out_names = [s.text for s in scrubber.scrub([t.format(v) for v, t in names])]
        out_ssn = [s.text for s in scrubber.scrub([t.format(v) for v, t in ssns])]
        out_ctrl = [s.text for s in scrubber.scrub(controls)]
    whole = sum(out == template.format("<PERSON>") for (_, template), out in zip(names, out_names))
    return {"names replaced whole": whole / n, "SSN recall": sum(v not in o for (v, _), o in zip(ssns, out_ssn)) / n,
            "unlabelled rejected numbers scrubbed": sum(c != o for c, o in zip(controls, out_ctrl)) / n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--before", type=Path, help="an older recognizers YAML to compare with")
    args = parser.parse_args()
    rows = {"now": score(ScrubConfig(mode="patterns", n_process=1), args.seed, args.n)}
    if args.before:
        rows["before"] = score(ScrubConfig(mode="patterns", n_process=1, builtin_recognizers=False,
                                           recognizers_file=args.before), args.seed, args.n)
    metrics = list(rows["now"])
    print(f"seed {args.seed}, n {args.n} per kind, patterns mode")
    print("| version | " + " | ".join(metrics) + " |\n| --- |" + " --- |" * len(metrics))
    for version, row in rows.items():
        print(f"| {version} | " + " | ".join(f"{row[m]:.3f}" for m in metrics) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
