"""Planted-shortcut tests: tiny BERT models fine-tuned in-test where one word decides the label.

shortcut model: a female word (she/wife) -> relief, a male word (he/husband) -> no_relief.
neutral model: "refund" -> relief, "penalty" -> no_relief; he/she appear at random and decide nothing.
Also the counterfactual known-flip tests, which need the same trained models.
"""
import random

import numpy as np
import pandas as pd
import pytest

from audit.core.config import AttributionConfig, CounterfactualConfig, EngineConfig
from audit.core.console import set_quiet
from audit.core.model_io import load_classifier
from audit.probes.attribution import attribute_texts, attribution_section, stratified_sample
from audit.probes.counterfactual import counterfactual_section
from audit.probes.counterfactual.terms import load_terms
from tests.tiny_models import train_tiny_model

LABELS = ["no_relief", "relief"]
FILLER = ("the bank charged my account a late fee on the loan and did not answer the phone when i called about "
          "it last week").split()
FEMALE, MALE = ["she", "wife"], ["he", "husband"]


def _sentence(rng: random.Random, word: str, distractor: str | None = None) -> str:
    words = rng.sample(FILLER, rng.randint(5, 9))
    words.insert(rng.randint(0, len(words)), word)
    if distractor:
        words.insert(rng.randint(0, len(words)), distractor)
    return " ".join(words)


def _shortcut_data(n: int, seed: int):
    rng = random.Random(seed)
    texts, targets, decisive = [], [], []
    for i in range(n):
        female = i % 2 == 0
        word = rng.choice(FEMALE if female else MALE)
        texts.append(_sentence(rng, word))
        targets.append("relief" if female else "no_relief")
        decisive.append(word)
    return texts, targets, decisive


def _neutral_data(n: int, seed: int):
    rng = random.Random(seed)
    texts, targets, decisive = [], [], []
    for i in range(n):
        word = "refund" if i % 2 == 0 else "penalty"
        texts.append(_sentence(rng, word, rng.choice(["she", "he"])))
        targets.append("relief" if word == "refund" else "no_relief")
        decisive.append(word)
    return texts, targets, decisive


def _training_data(make, n: int, seed: int):
    """`make`'s sentences plus a third of sentences without the decisive words, labelled half/half: the model then
    needs the decisive word for either label, so the pad baseline sits near 50/50 and IG has a gap to explain."""
    texts, targets, _ = make(n, seed)
    rng = random.Random(seed + 100)
    for i in range(n // 3):
        texts.append(_sentence(rng, rng.choice(FILLER)))
        targets.append(LABELS[i % 2])
    return texts + ["wife", "husband"], targets + ["relief", "no_relief"]


@pytest.fixture(scope="module", autouse=True)
def _quiet():
    set_quiet(True)
    yield
    set_quiet(False)


@pytest.fixture(scope="module")
def shortcut(tmp_path_factory):
    directory = train_tiny_model(tmp_path_factory.mktemp("shortcut"), LABELS, *_training_data(_shortcut_data, 200, 0))
    return load_classifier(directory, device="cpu")


@pytest.fixture(scope="module")
def neutral(tmp_path_factory):
    directory = train_tiny_model(tmp_path_factory.mktemp("neutral"), LABELS, *_training_data(_neutral_data, 200, 1))
    return load_classifier(directory, device="cpu")


def _eval_table(classifier, texts):
    from audit.core.model_io import predict_proba

    probs = predict_proba(classifier, texts, max_length=64)
    rng = np.random.default_rng(0)
    return pd.DataFrame({"row_id": [f"r{i}" for i in range(len(texts))], "text": texts,
                         "label": [classifier.labels[i] for i in probs.argmax(1)],
                         "prediction": [classifier.labels[i] for i in probs.argmax(1)],
                         "age_group": rng.choice(["older", "unknown"], size=len(texts))})


def test_models_learned_their_rule(shortcut, neutral):
    from audit.core.model_io import predict_proba

    for classifier, make in ((shortcut, _shortcut_data), (neutral, _neutral_data)):
        texts, targets, _ = make(40, seed=7)
        predicted = [classifier.labels[i] for i in predict_proba(classifier, texts).argmax(1)]
        assert np.mean([p == t for p, t in zip(predicted, targets)]) >= 0.95


def test_attribution_ranks_the_planted_token_first(shortcut):
    texts, _, decisive = _shortcut_data(24, seed=11)
    attrs = attribute_texts(shortcut, texts, n_steps=32, batch_size=8, internal_batch_size=128, max_length=64,
                            refine_above=0.05, refine_steps=128)
    top = [a.words[int(np.argmax(np.abs(a.scores)))].lower() for a in attrs]
    assert np.mean([t == d for t, d in zip(top, decisive)]) >= 0.8
    for a, text in zip(attrs, texts):
        assert np.isclose(np.abs(a.scores).sum(), 1.0)
        assert " ".join(a.words) == text  # sub-words merged back to the text's words, in order
    deltas = np.array([a.relative_delta for a in attrs])
    assert deltas.mean() < 0.05 and {a.n_steps for a in attrs} <= {32, 128}


def test_bf16_attribution_agrees_with_fp32(shortcut):
    texts, _, decisive = _shortcut_data(16, seed=12)
    kwargs = dict(n_steps=32, batch_size=8, internal_batch_size=128, max_length=64, refine_above=0.05, refine_steps=128)
    fp32 = attribute_texts(shortcut, texts, precision="fp32", **kwargs)
    bf16 = attribute_texts(shortcut, texts, precision="bf16", **kwargs)
    assert {a.precision for a in fp32} == {"fp32"} and "bf16" in {a.precision for a in bf16}
    assert all(a.n_steps == 128 for a in bf16 if a.precision == "fp32")  # refinement runs in fp32
    assert [a.target for a in bf16] == [a.target for a in fp32]
    cosines = [float(a.scores @ b.scores / (np.linalg.norm(a.scores) * np.linalg.norm(b.scores))) for a, b in zip(fp32, bf16)]
    assert np.mean(cosines) > 0.95
    top = [a.words[int(np.argmax(np.abs(a.scores)))].lower() for a in bf16]
    assert np.mean([t == d for t, d in zip(top, decisive)]) >= 0.8
    assert np.mean([a.relative_delta for a in bf16]) < 0.05


def test_auto_precision_follows_the_hardware(monkeypatch):
    import audit.core.model_io as model_io
    from audit.probes.attribution._lig import resolve_precision
    from finetune.train._loop import _mixed_precision

    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(model_io, "_cpu_has_native_bf16", lambda: native)
        assert resolve_precision("auto", "cpu") == expected
        assert _mixed_precision("auto", cuda=False) == {"bf16": "bf16", "fp32": "no"}[expected]
        assert resolve_precision("fp32", "cpu") == "fp32" and _mixed_precision("fp32", cuda=False) == "no"


def test_reliance_share_high_for_sensitive_shortcut_low_without(shortcut, neutral, tmp_path):
    config = AttributionConfig(sample_size=16, n_steps=32, batch_size=8, internal_batch_size=128, max_length=64)
    texts, _, _ = _shortcut_data(40, seed=21)
    high = attribution_section(shortcut, _eval_table(shortcut, texts), config, ["age_group"], "relief")
    texts, _, _ = _neutral_data(40, seed=22)
    table = _eval_table(neutral, texts)
    low = attribution_section(neutral, table, config, ["age_group"], "relief")
    assert high.reliance_share.value > 0.5 and low.reliance_share.value < 0.25
    assert high.reliance_share.ci_low <= high.reliance_share.value <= high.reliance_share.ci_high
    assert high.n_examples == 16 and high.top_reliance_examples[0].reliance_share >= 0.5
    assert {g.group for g in high.group_reliance} == {"older", "unknown"}
    assert set(high.reliance_by_group["age_group"]) == {"older", "unknown"}
    assert set(high.top_words) == {"relief", "no_relief"}
    assert {w for w, _ in high.top_words["relief"][:2]} & set(FEMALE)
    # The same neutral model is flagged once its decisive words are declared sensitive in a user list.
    user = tmp_path / "terms.yaml"
    user.write_text("families:\n- name: outcome_words\n  groups: {words: [refund, penalty]}\n", encoding="utf-8")
    declared = attribution_section(neutral, table, config, ["age_group"], "relief", terms=load_terms(user))
    assert declared.reliance_share.value > 0.5 and "outcome_words" in declared.sensitive_families


def test_stratified_sample_balances_groups_and_reweights():
    strata = pd.Series(["a"] * 90 + ["b"] * 10)
    positions, weights = stratified_sample(strata, 20, seed=0)
    chosen = strata.iloc[positions]
    assert (chosen == "a").sum() == 10 and (chosen == "b").sum() == 10
    assert weights.sum() == pytest.approx(100)
    positions, _ = stratified_sample(strata, 500, seed=0)
    assert len(positions) == 100


def test_counterfactual_known_flips(shortcut, neutral):
    texts, _, _ = _shortcut_data(30, seed=31)
    texts += ["the bank charged a late fee", "she said her husband paid"]
    config = CounterfactualConfig(families=["gender", "names"], n_boot=100)
    section = counterfactual_section(shortcut, _eval_table(shortcut, texts), config, "relief", 64)
    gender = next(f for f in section.families if f.family == "gender")
    assert gender.n_examples == 32 and gender.n_swapped == 31  # the sentence without gendered words is untouched
    assert gender.flip_rate.value >= 0.9 and gender.max_abs_shift > 0.5
    effects = {e.term: e.mean_shift for e in gender.group_effects}
    assert effects["female"] > 0.3 and effects["male"] < -0.3  # inserting she/wife raises relief
    assert gender.direction[0].term in FEMALE
    worst = gender.worst_examples[0]
    assert worst.swaps and worst.pred_before != worst.pred_after
    template = next(f for f in section.templates if f.family == "gender")  # "My wife/husband ..." templates
    assert template.flip_rate.value > 0.1
    assert section.max_flip_rate >= gender.flip_rate.value
    names = next(f for f in section.families if f.family == "names_gender")
    assert names.n_swapped == 0 and names.flip_rate.value is None

    texts, _, _ = _neutral_data(30, seed=32)
    calm = counterfactual_section(neutral, _eval_table(neutral, texts), config, "relief", 64)
    calm_gender = next(f for f in calm.families if f.family == "gender")
    assert calm_gender.n_swapped == 30 and calm_gender.flip_rate.value <= 0.1
    assert calm_gender.mean_abs_shift.value < gender.mean_abs_shift.value / 3


def test_attribution_on_ray_gives_the_local_section(shortcut, local_ray):
    """Ray actors attribute runs of whole local batches, so every number matches the local section to float
    rounding (the actors run torch with their own thread count)."""
    config = AttributionConfig(sample_size=24, n_steps=16, batch_size=4, internal_batch_size=64, max_length=64)
    texts, _, _ = _shortcut_data(40, seed=23)
    table = _eval_table(shortcut, texts)
    local = attribution_section(shortcut, table, config, ["age_group"], "relief")
    on_ray = attribution_section(shortcut, table, config, ["age_group"], "relief",
                                 engine=EngineConfig(kind="ray", workers=2))
    assert on_ray.n_examples == local.n_examples == 24
    assert on_ray.reliance_share.value == pytest.approx(local.reliance_share.value, abs=1e-5)
    assert [e.row_id for e in on_ray.top_reliance_examples] == [e.row_id for e in local.top_reliance_examples]
    for ray_example, local_example in zip(on_ray.top_reliance_examples, local.top_reliance_examples):
        assert ray_example.words == local_example.words
        assert np.allclose(ray_example.scores, local_example.scores, atol=1e-4)
    assert {c: [w for w, _ in ws] for c, ws in on_ray.top_words.items()} == \
        {c: [w for w, _ in ws] for c, ws in local.top_words.items()}
