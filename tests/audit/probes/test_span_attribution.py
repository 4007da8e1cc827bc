"""Attribution per predicted span: completeness of the span attributions, a model whose locations rest on the
person's name shows it in the name share, and no entity word (names) is ever recorded as a context word."""
from __future__ import annotations

import json
from pathlib import Path

from audit.cli import main
from audit.core.token_io import load_token_classifier
from audit.probes.attribution import SpanTarget, attribute_spans
from audit.record.store import RunStore
from tests import ner_data
from tests.ner_data import CITY_NAMES, FEMALE, MALE, SWAP_TEMPLATES, name_dependent_docs, plain_swap_docs


def _audit(tmp_path: Path, docs: list[dict]):
    run, common = ner_data.train_token_run(tmp_path, docs, counterfactual={"enabled": False},
                                           attribution={"sample_size": 40, "n_steps": 16, "refine_steps": 0})
    assert main(["--quiet", "audit", *common, "--run", run]) == 0
    return run, RunStore(tmp_path / "runs").load(run)


def test_span_attributions_are_complete_and_rest_on_the_span(tmp_path):
    run, record = _audit(tmp_path, plain_swap_docs())
    classifier = load_token_classifier(tmp_path / "runs" / run / "model")
    words = ["we", "met", "John", "near", "Paris", "station"]
    tags = {t: i for i, t in enumerate(classifier.labels)}
    [attr] = attribute_spans(classifier, [SpanTarget(words, 2, 3, (tags["B-PER"],))], n_steps=64)
    assert attr.relative_delta < 0.05 and abs(abs(attr.scores).sum() - 1) < 1e-9 and len(attr.scores) == 6
    section = record.span_attribution
    assert section.n_spans == 40 and {t.label for t in section.per_type} == {"PER", "LOC"}
    assert section.spans_predicted > section.n_spans and section.n_docs <= record.entities.n_docs
    per = {t.label: t for t in section.per_type}
    assert per["PER"].name_share is None and per["LOC"].name_share is not None
    assert per["LOC"].inside_share.value > 0.2 and per["LOC"].n_spans == 20  # balanced over types
    assert section.inside_share.ci_low <= section.inside_share.value <= section.inside_share.ci_high


def test_locations_that_depend_on_the_name_show_a_higher_name_share_and_no_name_is_recorded(tmp_path):
    _, plain = _audit(tmp_path / "plain", plain_swap_docs())
    _, biased = _audit(tmp_path / "biased", name_dependent_docs())
    share = {name: {t.label: t for t in rec.span_attribution.per_type}["LOC"].name_share.value
             for name, rec in (("plain", plain), ("biased", biased))}
    assert share["plain"] < 0.2 and share["biased"] > 0.4  # measured 0.01 and 0.87
    recorded = json.dumps(plain.span_attribution.model_dump()) + json.dumps(biased.span_attribution.model_dump())
    assert not any(word.lower() in recorded.lower() for word in MALE + FEMALE + CITY_NAMES)  # entity words never recorded
    context = {w for t in biased.span_attribution.per_type for w, _ in t.top_context_words}
    template_words = {w for t in SWAP_TEMPLATES for w in t.lower().split() if not w.startswith("{")}
    assert context and context <= template_words
