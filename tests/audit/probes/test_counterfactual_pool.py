"""Identity pool swaps (issue #17): cross-axis swaps keeping grammatical form, stop phrases, ambiguous words, the
model's window, within-text term contrasts, coverage and the worst-example filter, on a tiny model trained in-test."""
import random

import numpy as np
import pandas as pd
import pytest

from audit.core.config import AttributionConfig, CounterfactualConfig
from audit.core.console import set_quiet
from audit.core.model_io import load_classifier
from audit.probes.attribution import attribution_section
from audit.probes.counterfactual import article_for, counterfactual_section, data_pairs, pool_family, swapper_for
from audit.probes.counterfactual._pos import tag_spans
from audit.probes.counterfactual._window import Window
from audit.probes.counterfactual.terms import load_terms
from tests.tiny_models import train_tiny_model

LABELS = ["ok", "abusive"]
FILLER = "the people in this town said that the new bank on main street was open late every day".split()


@pytest.fixture(scope="module")
def lists():
    return load_terms()


@pytest.fixture(scope="module")
def pool(lists):
    return swapper_for(pool_family([f for f in lists.families if f.pool]), lists, CounterfactualConfig())


def _variants(swapper, text):
    hits = swapper.find(text)
    tags = tag_spans([text], [{h.start for h in hits}])[0] if swapper.needs_tags(hits) else {}
    return {v.inserted_group: v for v in swapper.variants(text, hits, tags)}


def test_pool_swaps_across_axes_keeping_form(pool):
    variants = _variants(pool, "Muslims and Jews pray; Islam is old.")
    assert "gay" not in variants  # "gay" has no concept form for "Islam": that target is skipped for this text
    assert variants["christian"].text == "Christians and Christians pray; Christianity is old."
    assert variants["homosexual"].text == "Homosexuals and homosexuals pray; homosexuality is old."
    groups = pool.family.axes
    assert {groups[g] for g in variants} >= {"religion", "sexual_orientation"}  # cross-axis targets
    noun, adjective = _variants(pool, "He is a Muslim."), _variants(pool, "The Muslim man paid.")
    assert noun["jewish"].text == "He is a Jew." and noun["asian"].text == "He is an Asian."
    assert adjective["jewish"].text == "The Jewish man paid." and adjective["gay"].text == "The gay man paid."
    assert _variants(pool, "an Asian man")["black"].text == "a Black man"


def test_missing_terms_plurals_and_case(pool):
    text = ("jews, homosexuals, homosexuality, a protestant, islam, islamic law, arabs, muslims, christians, "
            "catholics, lesbians, gays")
    assert len(pool.find(text)) == 12
    assert [h.text for h in pool.find("most black kids and Black people, not a black car")] == ["black", "Black"]
    assert pool.find("The black car and the white paper") == []


def test_stop_phrases_and_hyphenated_compounds(lists, pool):
    assert [h.text for h in pool.find("The Muslim Brotherhood and a Muslim neighbour")] == ["Muslim"]
    gender = swapper_for(lists.get("gender"), lists, CounterfactualConfig())
    assert gender.find("you guys met King Charles") == []
    assert [h.text for h in gender.find("the king said")] == ["king"]
    assert [h.text for h in pool.find("anti-Christian and Muslim-owned")] == ["Christian", "Muslim"]
    strict = swapper_for(pool.family, lists, CounterfactualConfig(hyphenated=False))
    assert strict.find("anti-Christian and Muslim-owned") == []


def test_pronoun_case_from_spacy(lists):
    gender = swapper_for(lists.get("gender"), lists, CounterfactualConfig())
    [variant] = _variants(gender, "I gave her the form and her loan was late.").values()
    assert variant.text == "I gave him the form and his loan was late."


def test_article_agreement():
    assert [article_for(w) for w in ["Asian", "Jewish", "European", "LGBT", "hour", "user"]] == \
        ["an", "a", "a", "an", "an", "a"]


@pytest.fixture(scope="module")
def biased(tmp_path_factory):
    """A tiny model where 'gay' or 'muslim' anywhere decides 'abusive'; other identity words decide nothing."""
    set_quiet(True)
    rng = random.Random(5)
    pool = [f for f in load_terms().families if f.pool]
    others = sorted({t.lower() for f in pool for t in f.terms()} - {"gay", "muslim"})
    texts, targets = [], []
    for i in range(600):
        words = rng.sample(FILLER, 8)
        word = rng.choice(["gay", "muslim"]) if i % 4 == 0 else rng.choice(others)
        words.insert(rng.randint(0, 8), word)
        texts.append(" ".join(words))
        targets.append("abusive" if word in ("gay", "muslim") else "ok")
    directory = train_tiny_model(tmp_path_factory.mktemp("biased"), LABELS, texts, targets, steps=400, seed=1)
    return load_classifier(directory, "cpu")


def _table(texts):
    return pd.DataFrame({"row_id": [f"r{i}" for i in range(len(texts))], "text": texts})


def test_within_text_contrasts_are_unbiased(biased):
    # "gay" never appears in the data, only queer/lesbian do: the old per-inserted-term average was biased by that.
    rng = random.Random(9)
    texts = [" ".join(rng.sample(FILLER, 7) + [w]) for w in ["queer", "lesbian"] * 15] + ["the bank was open"] * 10
    config = CounterfactualConfig(families=["descriptors"], n_boot=50, templates=False, worst_k=3)
    section = counterfactual_section(biased, _table(texts), config, "abusive", 64)
    pool = next(f for f in section.families if f.family == "identity_pool")
    effects = {e.term: e for e in pool.group_effects}
    assert effects["gay"].mean_shift > 0.1 and effects["muslim"].mean_shift > 0.1
    assert effects["gay"].toward == "abusive" and effects["queer"].toward == "ok"
    assert effects["gay"].ci_low is not None and effects["gay"].ci_low > 0
    assert effects["gay"].n == 30  # every text has a 'gay' version
    assert abs(effects["queer"].mean_shift) < effects["gay"].mean_shift / 3
    axes = {(a.from_axis, a.to_axis): a for a in pool.axes}
    assert axes[("sexual_orientation", "cross")].n_pairs > 0 and axes[("sexual_orientation", "within")].n_pairs > 0
    assert axes[("sexual_orientation", "religion")].mean_abs_shift.value > 0
    coverage = {c.scope: c for c in section.coverage}
    assert coverage["identity_pool"].n_with_term == 30 and coverage["identity_pool"].share == pytest.approx(0.75)
    assert coverage["axis:sexual_orientation"].n_with_term == 30 and coverage["axis:religion"].n_with_term == 0
    assert 0 < len(pool.worst_examples) <= 3
    for example in pool.worst_examples:  # flips and large shifts only, the swapped word highlighted
        assert example.pred_before != example.pred_after or abs(example.prob_after - example.prob_before) >= 0.1
        [(a, b)] = example.swapped_spans
        [(c, d)] = example.original_spans
        assert example.original[c:d] in ("queer", "lesbian") and example.swapped[a:b] == example.swaps[0].split(" -> ")[1]
    family = counterfactual_section(biased, _table(texts), config.model_copy(update={"descriptor_mode": "both"}),
                                    "abusive", 64)
    names = [f.family for f in family.families]
    assert "identity_pool" in names and "descriptors_sexual_orientation" in names
    sexual = next(f for f in family.families if f.family == "descriptors_sexual_orientation")
    assert "muslim" not in {e.term for e in sexual.group_effects} and not sexual.axes  # within-family: no religion


def test_swaps_stay_inside_the_window(biased, lists):
    far = " ".join(["the bank was open late"] * 30) + " and the queer people came"
    near = "the queer people came " + " ".join(["the bank was open late"] * 30) + " and the lesbian people came"
    window = Window(biased.tokenizer, 32)
    swapper = swapper_for(pool_family([f for f in lists.families if f.pool]), lists, CounterfactualConfig())
    moved = data_pairs(swapper, [far, near], ["far", "near"], 10, np.random.default_rng(0), window=window)
    assert moved.n_moved == 1 and moved.n_skipped == 0
    for pair in moved.pairs:
        assert len(biased.tokenizer(pair.before)["input_ids"]) <= 200
        if pair.row_id == "near":
            assert "lesbian" in pair.after  # the term beyond the window is never swapped
        else:
            assert "queer" in pair.before and window.limits([pair.before])[0] > pair.before.index("queer")
    skipped = data_pairs(swapper, [far, near], ["far", "near"], 10, np.random.default_rng(0), window=window,
                         mode="skip")
    assert skipped.n_skipped == 1 and {p.row_id for p in skipped.pairs} == {"near"}
    config = CounterfactualConfig(families=["descriptors"], n_boot=0, templates=False, window="skip")
    section = counterfactual_section(biased, _table([far, near]), config, "abusive", 32)
    pool = next(f for f in section.families if f.family == "identity_pool")
    assert pool.n_skipped == 1 and pool.n_swapped == 1 and "skipped" in pool.note and section.max_length == 32


def test_attribution_max_length_defaults_to_the_models(biased):
    long_text = " ".join(["the bank was open late"] * 30) + " gay"
    table = _table([long_text, "the gay people"]).assign(prediction="abusive", group="a")
    config = AttributionConfig(sample_size=2, n_steps=8, refine_steps=0)
    assert config.max_length is None
    section = attribution_section(biased, table, config, ["group"], "abusive", model_max_length=32)
    assert "truncated to 32 tokens" in (section.note or "")
