"""Generate a labelled PII set offline with presidio-evaluator's sentence faker (Faker underneath).

    PYTHONPATH=<dir with presidio-evaluator==0.3.2 and faker> .venv/bin/python bench/gen_pii_eval.py \
        --seed 20261201 --n 1000 --templates odd --out /tmp/pii_fresh.jsonl
    ... --records faker --locale it_IT pt_BR sv_SE --seed 9 --n 900 --templates odd --out /tmp/other_locales.jsonl

Writes JSONL {"text", "spans": [{"start", "end", "label"}], "template_id", "locale"} (empty spans left out) for
`govaudit scrub --evaluate` or `govaudit train` (task: token_classification). `--templates even|odd|all` picks every
other line of the shipped templates.txt: the scrubber's recognizers were tuned on sentences from the even templates,
so odd templates with another seed are a set nobody tuned on. `--own-templates` adds bench/data/pii_templates_own.txt
(addresses, international phones, ages, dates of birth; written for training data, never for evaluation).
`--records`: where names, phone numbers and the other per-person values come from.
- `fng` (default): `--locale en_US de_DE ...` splits `--n` over Faker locales; en_US draws people from
  presidio-evaluator's 3,000 FakeNameGenerator.com records and its address and phone formats, the other locales use
  Faker's own names, addresses and phone formats of that locale (a template a locale cannot fill is redrawn). Locale
  k gets seed `seed * 1000 + k` (k = 0 keeps `--seed`, so one-locale sets are unchanged).
- `faker`: a fresh pool of `--pool` people per locale from Faker's own providers for that locale (its names, phone
  formats, e-mail addresses) in presidio-evaluator's records, locale i seeded `seed + i`; `--n` is split evenly over
  the locales. Locales that share no pool are the way to measure on names and phone formats never tuned on.
presidio-evaluator and Faker are bench extras (pyproject `[bench]`), never runtime dependencies.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
from pathlib import Path

OWN_TEMPLATES = Path(__file__).resolve().parent / "data" / "pii_templates_own.txt"
# placeholders of the own templates that presidio-evaluator does not map
OWN_TYPES = {"intl_phone": "PHONE_NUMBER", "dob": "DATE_TIME", "street_address": "STREET_ADDRESS"}
INTL_PHONES = ("+49 30 #######", "+49 (0)89 ### ###-##", "0049 40 ########", "+33 # ## ## ## ##",
               "+33 (0)# ## ## ## ##", "+44 20 #### ####", "+44 (0)161 ### ####", "+1 (###) ###-####",
               "+1-###-###-####", "1-800-###-####", "+34 9## ### ###", "+39 06 #### ####", "+31 (0)20 ### ####",
               "+46 8-### ### ##", "+48 ## ### ## ##", "+61 2 #### ####", "+61 4## ### ###", "+81 3-####-####",
               "+91 ##### #####", "+52 55 #### ####", "+55 11 #####-####", "+27 21 ### ####", "## ### ###",
               "### ## ## ##", "(0##) ### ## ##", "0### ######", "##-##-##-##-##", "+353 1 ### ####")
DOB_FORMATS = ("%d %B %Y", "%B %d, %Y", "%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%b %d %Y", "%d-%b-%Y")


def _own_provider():
    import csv

    from faker.providers import BaseProvider
    from presidio_evaluator.data_generator import raw_data_dir

    with (raw_data_dir / "nationalities.csv").open(encoding="utf-8-sig") as handle:
        countries = [row["country"].title() for row in csv.DictReader(handle)]

    class OwnProvider(BaseProvider):
        def country(self) -> str:  # presidio-evaluator 0.3.2's NationalityProvider.country returns None
            return self.random_element(countries)

        def intl_phone(self) -> str:
            return self.numerify(self.random_element(INTL_PHONES))

        def dob(self) -> str:
            return self.generator.date_of_birth(minimum_age=18, maximum_age=95).strftime(
                self.random_element(DOB_FORMATS))

    return OwnProvider


def _faker(locale: str, templates: list[str], seed: int, own: bool):
    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.presidio_sentence_faker import presidio_additional_entity_providers

    random.seed(seed)
    if locale == "en_US" and not own:  # exactly the sets generated before --own-templates and other locales
        return PresidioSentenceFaker(locale, lower_case_ratio=0.05, sentence_templates=templates, random_seed=seed)
    if locale == "en_US":
        providers, records = [*presidio_additional_entity_providers, _own_provider()], None
    else:  # the locale's own address and phone providers; one empty record, so every value comes from Faker
        kept = [p for p in presidio_additional_entity_providers
                if p.__name__ not in ("AddressProviderNew", "PhoneNumberProviderNew")]
        providers, records = [*kept, _own_provider()], [{"_": ""}]
    mapping = {**PresidioSentenceFaker.ENTITY_TYPE_MAPPING, **OWN_TYPES}
    return PresidioSentenceFaker(locale, lower_case_ratio=0.05, sentence_templates=templates,
                                 entity_providers=providers, base_records=records, entity_type_mapping=mapping,
                                 random_seed=seed)


def _generate(faker, n: int) -> tuple[list, int]:
    """n samples; a template the locale cannot fill (a missing Faker provider) is redrawn."""
    try:  # one call draws the same templates and values as one sample at a time
        return faker.generate_new_fake_sentences(num_samples=n), 0
    except AttributeError:
        pass
    samples, redrawn = [], 0
    while len(samples) < n:
        try:
            with contextlib.redirect_stderr(io.StringIO()):  # no progress bar per sample
                samples.extend(faker.generate_new_fake_sentences(num_samples=1))
        except AttributeError:
            redrawn += 1
            if redrawn > 20 * n:
                raise
    return samples, redrawn


def faker_people(locale: str, seed: int, size: int) -> list[dict[str, str]]:
    """`size` people from Faker's providers for `locale`, with the record fields presidio-evaluator's templates use
    (the full name with a middle initial one time in five, as its FakeNameGenerator pool has)."""
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    missing = [field for field in ("phone_number", "email", "first_name_female", "last_name_male") if not hasattr(fake, field)]
    if missing:
        raise SystemExit(f"gen_pii_eval: Faker locale {locale} has no {', '.join(missing)} provider, which --records "
                         "faker needs: choose another locale, or use --records fng (it redraws what a locale cannot fill)")
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
    parser.add_argument("--templates", choices=["even", "odd", "all", "none"], default="all")
    parser.add_argument("--own-templates", action="store_true")
    parser.add_argument("--locale", nargs="+", default=["en_US"])
    parser.add_argument("--records", choices=["fng", "faker"], default="fng")
    parser.add_argument("--pool", type=int, default=500, help="people per locale with --records faker")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from presidio_evaluator.data_generator.presidio_sentence_faker import presidio_templates_file_path

    text = Path(presidio_templates_file_path).read_text(encoding="utf-8")
    lines = [t.strip() for t in text.splitlines() if t.strip()]
    keep = {"even": lines[0::2], "odd": lines[1::2], "all": lines, "none": []}[args.templates]
    if args.own_templates:
        keep = keep + [t.strip() for t in OWN_TEMPLATES.read_text(encoding="utf-8").splitlines() if t.strip()]
    if not keep:
        parser.error("no templates: pick --templates even|odd|all and/or --own-templates")
    if args.records == "faker" and args.own_templates:
        parser.error("--own-templates needs --records fng (their providers are not in Faker's records)")
    written = empty = 0
    with args.out.open("w", encoding="utf-8") as out:
        for k, locale in enumerate(args.locale):
            n = args.n // len(args.locale) + (1 if k < args.n % len(args.locale) else 0)
            if args.records == "faker":
                from presidio_evaluator.data_generator import PresidioSentenceFaker

                seed = args.seed + k
                people = faker_people(locale, seed, args.pool)
                random.seed(seed)
                faker = PresidioSentenceFaker(locale, lower_case_ratio=0.05, sentence_templates=keep, random_seed=seed,
                                              base_records=people)
            else:
                seed = args.seed if k == 0 else args.seed * 1000 + k
                faker = _faker(locale, keep, seed, args.own_templates)
            samples, redrawn = _generate(faker, n)
            for sample in samples:  # an empty value (e.g. a gendered title left blank) is no span
                spans = [{"start": s.start_position, "end": s.end_position, "label": s.entity_type}
                         for s in sample.spans if s.end_position > s.start_position]
                empty += len(sample.spans) - len(spans)
                out.write(json.dumps({"text": sample.full_text, "spans": spans, "template_id": sample.template_id,
                                      "locale": locale}) + "\n")
            written += len(samples)
            print(f"{locale}: {len(samples)} sentences, seed {seed}, {redrawn} templates redrawn")
    print(f"wrote {written} sentences from {len(keep)} templates ({args.templates}"
          f"{' + own' if args.own_templates else ''}, records {args.records}) to {args.out}; "
          f"{empty} empty spans left out")


if __name__ == "__main__":
    main()
