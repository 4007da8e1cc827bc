"""The swap engine: case, word boundaries, untouched text, recorded swaps, multi-group variants, templates."""
import numpy as np
import pytest

from audit.probes.counterfactual import Swapper, data_pairs, match_case, template_pairs
from audit.probes.counterfactual._stats import bootstrap_mean
from audit.probes.counterfactual.terms import TermFamily, load_terms


@pytest.fixture(scope="module")
def lists():
    return load_terms()


def test_gender_swap_both_ways_preserving_case(lists):
    swapper = Swapper(lists.get("gender"))
    [variant] = swapper.variants("HE told Her husband: she and he. Mr. Lee's wife")
    assert variant.text == "SHE told His wife: he and she. Mrs. Lee's husband"
    assert variant.swaps == ("HE -> SHE", "Her -> His", "husband -> wife", "she -> he", "he -> she", "Mr -> Mrs",
                             "wife -> husband")
    assert variant.inserted_group == "mixed"


def test_word_boundaries_and_untouched_text(lists):
    swapper = Swapper(lists.get("gender"))
    for text in ["The theme of the thesis", "she's", "shepherd hero-like", "héhe"]:
        if text == "she's":
            assert swapper.variants(text)[0].text == "he's"
        else:
            assert swapper.variants(text) == []
    [variant] = swapper.variants("Fees, fees and\tmore fees; then she left.")
    assert variant.text == "Fees, fees and\tmore fees; then he left."
    assert variant.inserted_group == "male" and variant.inserted_terms == ("he",)


def test_hyphen_and_phrase_terms(lists):
    swapper = Swapper(lists.get("descriptors_race_ethnicity"))
    hits = swapper.find("A Native American and an African-American customer, not a non-White one.")
    assert [h.text for h in hits] == ["Native American", "African-American"]
    variants = {v.inserted_group: v.text for v in swapper.variants("The Black customer")}
    assert set(variants) == {"white", "asian", "hispanic", "indigenous", "arab"}  # arab added in issue #17
    assert variants["white"] == "The White customer"


def test_names_are_case_sensitive_and_gender_aligned(lists):
    swapper = Swapper(lists.get("names_ethnicity"))
    assert swapper.variants("a frank talk with harry") == []
    by_group = {v.inserted_group: v.text for v in swapper.variants("Amanda called.")}
    assert by_group == {"african_american": "Nichelle called.", "asian": "Meera called.",
                        "hispanic": "Alejandra called."}


def test_match_case():
    assert match_case("HE", "she") == "SHE"
    assert match_case("He", "she") == "She"
    assert match_case("he", "she") == "she"
    assert match_case("muslim", "Jewish") == "jewish"
    assert match_case("Muslim", "Jewish") == "Jewish"


def test_data_pairs_sampling_is_seeded_and_capped(lists):
    family = lists.get("gender")
    texts = [f"she paid fee {i}" for i in range(30)] + ["no identity here"] * 5
    ids = [str(i) for i in range(35)]
    pairs, n_matched, *_ = data_pairs(family, texts, ids, 10, np.random.default_rng(1))
    again = data_pairs(family, texts, ids, 10, np.random.default_rng(1)).pairs
    assert n_matched == 30 and len(pairs) == 10 and pairs == again
    assert all(p.after.startswith("he paid") for p in pairs)


def test_template_pairs_fill_every_group_both_ways():
    family = TermFamily(name="t", groups={"a": ("x1", "x2"), "b": ("y1", "y2"), "c": ("z1", "z2")},
                        template_slot="descriptor")
    pairs = template_pairs(family, ("The {term} customer.", "A {term} loan."))
    assert len(pairs) == 2 * 2 * 6  # templates x positions x ordered group pairs
    assert {(p.before, p.after) for p in pairs if p.cluster.endswith(":0:0")} == {
        ("The x1 customer.", "The y1 customer."), ("The y1 customer.", "The x1 customer."),
        ("The x1 customer.", "The z1 customer."), ("The z1 customer.", "The x1 customer."),
        ("The y1 customer.", "The z1 customer."), ("The z1 customer.", "The y1 customer.")}


def test_cluster_bootstrap_is_seeded_and_brackets_the_mean():
    values = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    clusters = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    first = bootstrap_mean(values, clusters=clusters, n_boot=300, seed=3)
    assert first == bootstrap_mean(values, clusters=clusters, n_boot=300, seed=3)
    assert first.value == pytest.approx(3 / 8)
    assert first.ci_low <= first.value <= first.ci_high and first.ci_high - first.ci_low > 0
    weighted = bootstrap_mean(np.array([1.0, 0.0]), weights=np.array([3.0, 1.0]), n_boot=0)
    assert weighted.value == pytest.approx(0.75)
    assert bootstrap_mean(np.array([]), n_boot=10).value is None
