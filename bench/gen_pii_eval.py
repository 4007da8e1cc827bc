"""Generate a labelled PII evaluation set offline with presidio-evaluator's sentence faker (Faker underneath).

    PYTHONPATH=<dir with presidio-evaluator==0.3.2 and faker> .venv/bin/python bench/gen_pii_eval.py \
        --seed 20261201 --n 1000 --templates odd --out /tmp/pii_fresh.jsonl
    ... --records faker --locale it_IT pt_BR sv_SE --seed 9 --n 900 --templates odd --out /tmp/other_locales.jsonl

Writes JSONL {"text", "spans": [{"start", "end", "label"}], "template_id", "locale"} for `govaudit scrub --evaluate`.
`--templates even|odd|all` picks every other line of the shipped templates.txt: tune on sentences from the even
templates, measure on the odd templates with another seed (a set nobody tuned on).
`--records`: where names, phone numbers and the other per-person values come from. `fng` (default): presidio-
evaluator's 3,000 FakeNameGenerator.com people (the same pool for every seed and locale; the locale changes only
the values that pool lacks). `faker`: a fresh pool of `--pool` people per locale from Faker's own providers for that
locale (its names, phone formats, e-mail addresses), seeded by --seed; `--n` is split evenly over the locales.
Locales that share no pool are the way to measure on names and phone formats never tuned on.
presidio-evaluator and Faker are bench extras (pyproject `[bench]`), never runtime dependencies.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def faker_people(locale: str, seed: int, size: int) -> list[dict[str, str]]:
    """`size` people from Faker's providers for `locale`, with the record fields presidio-evaluator's templates use
    (the full name with a middle initial one time in five, as its FakeNameGenerator pool has)."""
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    people = []
    for _ in range(size):
        female = fake.random.random() < 0.5
        first = fake.first_name_female() if female else fake.first_name_male()
        last = fake.last_name_female() if female else fake.last_name_male()
        if fake.random.random() > 0.2:
            person = f"{first} {last}"
        else:
            person = f"{first} {fake.random_uppercase_letter()}{fake.random.choice(['. ', ' '])}{last}"
        gendered = {"first_name_female": first if female else "", "last_name_female": last if female else "",
                    "first_name_male": "" if female else first, "last_name_male": "" if female else last}
        people.append({"person": person, "name": person, "first_name": first, "last_name": last,
                       "phone_number": fake.phone_number(), "email": fake.email(), **gendered})
    return people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--templates", choices=["even", "odd", "all"], default="all")
    parser.add_argument("--locale", nargs="+", default=["en_US"])
    parser.add_argument("--records", choices=["fng", "faker"], default="fng")
    parser.add_argument("--pool", type=int, default=500, help="people per locale with --records faker")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.presidio_sentence_faker import presidio_templates_file_path

    lines = [t.strip() for t in Path(presidio_templates_file_path).read_text(encoding="utf-8").splitlines() if t.strip()]
    keep = {"even": lines[0::2], "odd": lines[1::2], "all": lines}[args.templates]
    sizes = [args.n // len(args.locale) + (i < args.n % len(args.locale)) for i in range(len(args.locale))]
    written = 0
    with args.out.open("w", encoding="utf-8") as out:
        for i, (locale, size) in enumerate(zip(args.locale, sizes)):
            seed = args.seed + i  # one locale: exactly the sentences this script wrote before --records existed
            records = faker_people(locale, seed, args.pool) if args.records == "faker" else None
            random.seed(seed)
            faker = PresidioSentenceFaker(locale, lower_case_ratio=0.05, sentence_templates=keep, random_seed=seed,
                                          base_records=records)
            for sample in faker.generate_new_fake_sentences(num_samples=size):
                spans = [{"start": s.start_position, "end": s.end_position, "label": s.entity_type}
                         for s in sample.spans if s.end_position > s.start_position]  # Faker's "" prefixes
                out.write(json.dumps({"text": sample.full_text, "spans": spans, "template_id": sample.template_id,
                                      "locale": locale}) + "\n")
                written += 1
    print(f"wrote {written} sentences from {len(keep)} templates ({args.templates}, seed {args.seed}, records "
          f"{args.records}, locales {' '.join(args.locale)}) to {args.out}")


if __name__ == "__main__":
    main()
