"""Generate a labelled PII evaluation set offline with presidio-evaluator's sentence faker (Faker underneath).

    PYTHONPATH=<dir with presidio-evaluator==0.3.2 and faker> .venv/bin/python bench/gen_pii_eval.py \
        --seed 20261201 --n 1000 --templates odd --out /tmp/pii_fresh.jsonl

Writes JSONL {"text", "spans": [{"start", "end", "label"}], "template_id"} for `govaudit scrub --evaluate`.
`--templates even|odd|all` picks every other line of the shipped templates.txt: the scrubber's recognizers were tuned
on sentences from the even templates (seed 7), so odd templates with another seed are a set nobody tuned on.
presidio-evaluator and Faker are bench extras (pyproject `[bench]`), never runtime dependencies.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--templates", choices=["even", "odd", "all"], default="all")
    parser.add_argument("--locale", default="en_US")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.presidio_sentence_faker import presidio_templates_file_path

    lines = [t.strip() for t in Path(presidio_templates_file_path).read_text(encoding="utf-8").splitlines() if t.strip()]
    keep = {"even": lines[0::2], "odd": lines[1::2], "all": lines}[args.templates]
    random.seed(args.seed)
    faker = PresidioSentenceFaker(args.locale, lower_case_ratio=0.05, sentence_templates=keep, random_seed=args.seed)
    samples = faker.generate_new_fake_sentences(num_samples=args.n)
    with args.out.open("w", encoding="utf-8") as out:
        for sample in samples:
            spans = [{"start": s.start_position, "end": s.end_position, "label": s.entity_type} for s in sample.spans]
            out.write(json.dumps({"text": sample.full_text, "spans": spans, "template_id": sample.template_id}) + "\n")
    print(f"wrote {len(samples)} sentences from {len(keep)} templates ({args.templates}, seed {args.seed}) to {args.out}")


if __name__ == "__main__":
    main()
