"""Rebuild the shipped term lists from the upstream word lists (a maintainer tool; never run by govaudit itself).

    python audit/data/terms/derive.py /path/to/wordlists

`/path/to/wordlists` holds the upstream files named in PROVENANCE.md (winobias/, gn_glove/, weat/, langtest/,
holisticbias_v1.1/). Writes gender.yaml, names.yaml and descriptors.yaml next to this file; the selections below are
the whole of govaudit's editorial choice, so the output is reproducible from the sources.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent

# Core pronoun/title pairs first: they win over later pairs for ambiguous words ("her" -> "his").
CORE_GENDER = [("he", "she"), ("his", "her"), ("him", "her"), ("himself", "herself"), ("his", "hers"),
               ("mr", "mrs"), ("mr", "ms"), ("man", "woman"), ("men", "women"), ("husband", "wife"),
               ("husbands", "wives"), ("boyfriend", "girlfriend"), ("father", "mother"), ("son", "daughter"),
               ("brother", "sister"), ("dad", "mom"), ("sir", "madam"), ("gentleman", "lady"),
               ("grandfather", "grandmother"), ("uncle", "aunt"), ("nephew", "niece"), ("widower", "widow")]
FEMALE_HINT = re.compile(r"(woman|women|ess(es)?|girls?|lady|ladies|mother|mom|wife|wives|sister|daughter|aunt|niece"
                         r"|queen|bride|gal|she|her|ma'am|madam|mrs|ms|maid|chick|heroine)")
# Pairs dropped from the upstream lists: not about people, anatomy/medicine, not gender (gay/lesbian), typos, or
# everyday business words ("master", "host", "bull", "governor").
GENDER_DROP = {"monastery", "deer", "beard", "beards", "cialis", "testosterone", "androgen", "andrology", "andropause",
               "sperm", "penis", "brideprice", "masculism", "gays", "gay", "baritone", "bull", "bulls", "colt", "colts",
               "stallion", "gelding", "rooster", "roosters", "lion", "lions", "master", "masters", "governor",
               "governors", "stud", "studs", "host", "hosts", "mentleman", "stailor", "tailor", "tailors", "czar",
               "god", "gods", "macho", "paramour", "adultor", "adultors", "suitor", "barons", "wizard", "wizards",
               "sorcerer", "sorcerers", "enchanter", "priest", "priests", "monk", "monks", "abbot", "abbots"}
NAMES_GENDER_DROP = {"Bill", "Donna"}  # "Bill" is an everyday banking word; its pair goes with it.
WEAT_SELECT = {  # 8 male then 8 female, index-aligned across groups (position i keeps the gender).
    "european_american": ["Adam", "Harry", "Josh", "Roger", "Alan", "Frank", "Justin", "Ryan",
                          "Amanda", "Courtney", "Heather", "Melanie", "Katie", "Betsy", "Kristin", "Nancy"],
    "african_american": ["Alonzo", "Jamel", "Theo", "Alphonse", "Jerome", "Leroy", "Torrance", "Darnell",
                         "Nichelle", "Shereen", "Ebony", "Latisha", "Shaniqua", "Jasmine", "Tanisha", "Tia"],
}
LANGTEST_SELECT = {  # present in langtest's list for the group and in neither its white nor black list
    "asian": ("asian_names", ["Hao", "Rohan", "Sahil", "Vihaan", "Syed", "Tenzin", "Aahil", "Aaryan",
                              "Meera", "Ananya", "Syeda", "Parveen", "Liyana", "Sabiha", "Maliha", "Miya"]),
    "hispanic": ("hispanic_names", ["Eduardo", "Gerardo", "Arturo", "Ignacio", "Alberto", "Jorge", "Sergio", "Raul",
                                    "Alejandra", "Mariana", "Perla", "Carmen", "Yaritza", "Yesenia", "Alondra",
                                    "Julissa"]),
}
# HolisticBias descriptors: one group per descriptor (or per age band), a small subset per axis. Pool axes (`pool`)
# list each group by grammatical form: `adj` (adjectives: HolisticBias descriptors, checked below), `noun` (one person),
# `plural` (people) and `concept` (the religion or orientation itself); the noun, plural and concept forms and the
# extra adjectives marked `# govaudit` are ordinary English inflections written for govaudit (issue #17: the
# Jigsaw/Civil-Comments style swaps need "Jews", "Muslims", "homosexuality", "Islam", "Arabs"). Forms are what a pool
# swap keeps: "Muslims" -> "Jews", "Islam" -> "Judaism"; a target without the form is skipped for that text.
GOVAUDIT_FORMS = {"Islamic", "straight", "trans", "cis", "Latina", "Latinx", "Caucasian",  # adjectives added by govaudit
                  "Italian", "Japanese", "Canadian", "Russian"}
DESCRIPTOR_SELECT = {
    "religion": {"case_sensitive": False, "pool": True, "groups": {
        "christian": {"adj": ["Christian"], "noun": ["Christian"], "plural": ["Christians"], "concept": ["Christianity"]},
        "catholic": {"adj": ["Catholic"], "noun": ["Catholic"], "plural": ["Catholics"], "concept": ["Catholicism"]},
        "protestant": {"adj": ["Protestant"], "noun": ["Protestant"], "plural": ["Protestants"],
                       "concept": ["Protestantism"]},
        "muslim": {"adj": ["Muslim", "Islamic"], "noun": ["Muslim"], "plural": ["Muslims"], "concept": ["Islam"]},
        "jewish": {"adj": ["Jewish"], "noun": ["Jew"], "plural": ["Jews"], "concept": ["Judaism"]},
        "hindu": {"adj": ["Hindu"], "noun": ["Hindu"], "plural": ["Hindus"], "concept": ["Hinduism"]},
        "buddhist": {"adj": ["Buddhist"], "noun": ["Buddhist"], "plural": ["Buddhists"], "concept": ["Buddhism"]},
        "sikh": {"adj": ["Sikh"], "noun": ["Sikh"], "plural": ["Sikhs"], "concept": ["Sikhism"]},
        "atheist": {"adj": ["atheist"], "noun": ["atheist"], "plural": ["atheists"], "concept": ["atheism"]}}},
    "nationality": {"case_sensitive": False, "pool": True, "groups": {
        "american": {"adj": ["American"], "noun": ["American"], "plural": ["Americans"]},
        "mexican": {"adj": ["Mexican"], "noun": ["Mexican"], "plural": ["Mexicans"]},
        "chinese": {"adj": ["Chinese"]},
        "indian": {"adj": ["Indian"], "noun": ["Indian"], "plural": ["Indians"]},
        "filipino": {"adj": ["Filipino"], "noun": ["Filipino"], "plural": ["Filipinos"]},
        "korean": {"adj": ["Korean"], "noun": ["Korean"], "plural": ["Koreans"]},
        "vietnamese": {"adj": ["Vietnamese"]},
        "cuban": {"adj": ["Cuban"], "noun": ["Cuban"], "plural": ["Cubans"]},
        "italian": {"adj": ["Italian"], "noun": ["Italian"], "plural": ["Italians"]},
        "japanese": {"adj": ["Japanese"]},
        "canadian": {"adj": ["Canadian"], "noun": ["Canadian"], "plural": ["Canadians"]},
        "russian": {"adj": ["Russian"], "noun": ["Russian"], "plural": ["Russians"]}}},
    "race_ethnicity": {"case_sensitive": False, "pool": True, "ambiguous": ["white", "black", "whites", "blacks"],
                       "groups": {
        "white": {"adj": ["White", "European-American", "Caucasian"], "plural": ["Whites", "Caucasians"]},
        "black": {"adj": ["Black", "African-American"], "plural": ["Blacks", "African-Americans"]},
        "asian": {"adj": ["Asian", "Asian-American"], "noun": ["Asian"], "plural": ["Asians"]},
        "hispanic": {"adj": ["Hispanic", "Latino", "Latina", "Latinx"], "noun": ["Hispanic", "Latino"],
                     "plural": ["Hispanics", "Latinos"]},
        "indigenous": {"adj": ["Native American", "Indigenous"], "noun": ["Native American"],
                       "plural": ["Native Americans"]},
        "arab": {"adj": ["Arab", "Middle Eastern"], "noun": ["Arab"], "plural": ["Arabs"]}}},
    "sexual_orientation": {"case_sensitive": False, "pool": True, "ambiguous": ["straight"], "groups": {
        "gay": {"adj": ["gay"], "noun": ["gay"], "plural": ["gays"]},
        "lesbian": {"adj": ["lesbian"], "noun": ["lesbian"], "plural": ["lesbians"]},
        "bisexual": {"adj": ["bisexual"], "noun": ["bisexual"], "plural": ["bisexuals"], "concept": ["bisexuality"]},
        "homosexual": {"adj": ["homosexual"], "noun": ["homosexual"], "plural": ["homosexuals"],
                       "concept": ["homosexuality"]},
        "heterosexual": {"adj": ["heterosexual", "straight"], "noun": ["heterosexual"], "plural": ["heterosexuals"],
                         "concept": ["heterosexuality"]},
        "queer": {"adj": ["queer"]},
        "asexual": {"adj": ["asexual"], "noun": ["asexual"], "plural": ["asexuals"], "concept": ["asexuality"]},
        "lgbt": {"adj": ["LGBT", "LGBTQ"]}}},
    "gender_identity": {"case_sensitive": False, "pool": True, "ambiguous": ["trans", "cis"], "groups": {
        "transgender": {"adj": ["transgender", "trans"]},
        "cisgender": {"adj": ["cisgender", "cis"]},
        "nonbinary": {"adj": ["nonbinary", "non-binary"]}}},
    "ability": {"case_sensitive": False, "groups": {
        "disabled": ["disabled"], "nondisabled": ["nondisabled"], "blind": ["blind"], "deaf": ["Deaf"],
        "autistic": ["autistic"], "paralyzed": ["paralyzed"], "dyslexic": ["dyslexic"]}},
    "age": {"case_sensitive": False, "groups": {
        "young": ["young", "25-year-old", "30-year-old", "younger", "twenty-five-year-old", "adolescent"],
        "old": ["elderly", "75-year-old", "70-year-old", "older", "seventy-five-year-old", "senior-citizen"]}},
}
TEMPLATE_TERMS = {"gender": {"male": ["husband", "father", "son", "brother"],
                             "female": ["wife", "mother", "daughter", "sister"]}}


def _dump(path: Path, header: str, data: dict) -> None:
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    path.write_text(header + body, encoding="utf-8")


def _gender(src: Path) -> dict:
    male_gn = [w.strip() for w in (src / "gn_glove/male_word_file.txt").read_text().splitlines() if w.strip()]
    female_gn = [w.strip() for w in (src / "gn_glove/female_word_file.txt").read_text().splitlines() if w.strip()]
    known_male = {m for m, _ in CORE_GENDER} | set(male_gn)
    known_female = {f for _, f in CORE_GENDER} | set(female_gn)
    wino = []
    for name in ("generalized_swaps.txt", "extra_gendered_words.txt"):
        for line in (src / "winobias" / name).read_text().splitlines():
            parts = [p.strip().rstrip(".") for p in line.split("\t") if p.strip()]
            if len(parts) != 2:
                continue
            a, b = parts
            if a in known_male or b in known_female:
                wino.append((a, b))
            elif b in known_male or a in known_female:
                wino.append((b, a))
            elif FEMALE_HINT.search(a) and not FEMALE_HINT.search(b):
                wino.append((b, a))
            elif FEMALE_HINT.search(b) and not FEMALE_HINT.search(a):
                wino.append((a, b))
    pairs, seen = [], set()
    for male, female in [*CORE_GENDER, *zip(male_gn, female_gn), *wino]:
        male, female = male.lower().rstrip("."), female.lower().rstrip(".")
        if male in GENDER_DROP or male == female or not re.fullmatch(r"[a-z][a-z'-]*", male) or not re.fullmatch(r"[a-z][a-z'-]*", female):
            continue
        if (male, female) in seen or (female, male) in seen:
            continue
        seen.add((male, female))
        pairs.append((male, female))
    return {"families": [{
        "name": "gender",
        "description": "Gendered words (pronouns, titles, kinship and role nouns), swapped male <-> female.",
        "source": "govaudit core pairs; WinoBias generalized_swaps + extra_gendered_words (Zhao et al. 2018, MIT); "
                  "GN-GloVe word lists (Zhao et al. 2018, Apache-2.0)",
        "license": "MIT (WinoBias) / Apache-2.0 (GN-GloVe); see licenses/",
        "case_sensitive": False,
        "template_slot": "relative",
        "groups": {"male": [m for m, _ in pairs], "female": [f for _, f in pairs]},
        "template_terms": TEMPLATE_TERMS["gender"],
    }]}


def _names(src: Path) -> dict:
    weat = json.loads((src / "weat/WEAT_wefe.json").read_text())
    keep = [i for i, (m, f) in enumerate(zip(weat["male_names"], weat["female_names"]))
            if m not in NAMES_GENDER_DROP and f not in NAMES_GENDER_DROP]
    groups_eth = {}
    weat_names = set(weat["european_american_names_5"]) | set(weat["african_american_names_5"])
    for group, names in WEAT_SELECT.items():
        missing = [n for n in names if n not in weat_names]
        assert not missing, missing
        groups_eth[group] = names
    langtest = json.loads((src / "langtest/names_by_ethnicity.json").read_text())
    other = set(langtest["white_names"]["first_names"]) | set(langtest["black_names"]["first_names"])
    for group, (key, names) in LANGTEST_SELECT.items():
        listed = set(langtest[key]["first_names"])
        bad = [n for n in names if n not in listed or n in other]
        assert not bad, bad
        groups_eth[group] = names
    return {"families": [
        {"name": "names_gender",
         "description": "First names associated with gender, swapped male <-> female.",
         "source": "WEAT male/female names (Caliskan et al. 2017) via wefe 1.0.1 WEAT.json (MIT)",
         "license": "MIT (wefe); see licenses/",
         "case_sensitive": True, "template_slot": "name",
         "groups": {"male": [weat["male_names"][i] for i in keep], "female": [weat["female_names"][i] for i in keep]}},
        {"name": "names_ethnicity",
         "description": "First names associated with ethnicity; position i has the same gender in every group "
                        "(0-7 male, 8-15 female).",
         "source": "WEAT European/African-American names (Caliskan et al. 2017) via wefe 1.0.1 (MIT); "
                   "Asian and Hispanic names selected from langtest 2.7.0 names.json (Apache-2.0)",
         "license": "MIT (wefe) / Apache-2.0 (langtest); see licenses/",
         "case_sensitive": True, "template_slot": "name", "groups": groups_eth,
         "template_terms": {g: [names[i] for i in (0, 1, 8, 9)] for g, names in groups_eth.items()}},
    ]}


def _descriptors(src: Path) -> dict:
    raw = json.loads((src / "holisticbias_v1.1/descriptors.json").read_text())
    listed = set()
    for axis in raw.values():
        for bucket in axis.values():
            listed.update((d["descriptor"] if isinstance(d, dict) else d).lower() for d in bucket)
    families = []
    for axis, spec in DESCRIPTOR_SELECT.items():
        for group in spec["groups"].values():
            adjectives = group["adj"] if isinstance(group, dict) else group
            missing = [t for t in adjectives if t.lower() not in listed and t not in GOVAUDIT_FORMS]
            assert not missing, (axis, missing)
        pooled = spec.get("pool", False)
        family = {
            "name": f"descriptors_{axis}",
            "description": f"HolisticBias {axis.replace('_', ' ')} descriptors (adjectives), one group per descriptor"
                           + ("; noun, plural and concept forms added by govaudit." if pooled else "."),
            "source": "HolisticBias v1.1 descriptors (Smith et al. 2022), subset selected by govaudit"
                      + ("; noun/plural/concept forms by govaudit" if pooled else ""),
            "license": "CC BY-SA 4.0 (adapted: subset); see licenses/",
            "case_sensitive": spec["case_sensitive"], "template_slot": "descriptor"}
        if pooled:
            family.update(axis=axis, pool=True)
        if spec.get("ambiguous"):
            family["ambiguous"] = spec["ambiguous"]
        family["groups"] = spec["groups"]
        families.append(family)
    return {"families": families}


def main(src: Path) -> None:
    header = "# Generated by derive.py from the upstream lists named in PROVENANCE.md; edit derive.py, not this file.\n"
    _dump(HERE / "gender.yaml", header, _gender(src))
    _dump(HERE / "names.yaml", header, _names(src))
    _dump(HERE / "descriptors.yaml", header, _descriptors(src))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
