"""Run-record sections of a token classifier (task: token_classification): entity metrics and name-swap parity.

Written by `govaudit train` (entity metrics on the test split) and `govaudit audit` (entity-recall parity).
Never holds text: predictions are offsets and labels, names are group names only.
"""
from __future__ import annotations

from pydantic import Field

from ._common import Estimate, Record

__all__ = ["EntityScore", "EntityMetrics", "EntitySection", "NameGroupRecall", "NameFamilyParity", "EntityParitySection",
           "SpanFlipGroup", "SpanFlipFamily", "SpanFlipSection", "SpanTypeAttribution", "SpanAttributionSection"]


class EntityScore(Record):
    support: int = Field(description="Gold entities.")
    predicted: int = Field(description="Predicted entities.")
    precision: Estimate
    recall: Estimate
    f1: Estimate


class EntityMetrics(Record):
    """Entity-level scores under one matching scheme (docs/ner.md)."""

    scheme: str = Field(description="'strict' (seqeval strict IOB2: type and both boundaries equal) or 'partial' "
                                    "(same type and at least one word in common).")
    micro: EntityScore
    per_entity: dict[str, EntityScore] = Field(default_factory=dict)


class EntitySection(Record):
    split: str = Field("test", description="Documents scored: the test split, or data.eval.")
    n_docs: int
    n_boot: int
    ci_level: float
    seed: int
    strict: EntityMetrics
    partial: EntityMetrics
    truncated_words: int = Field(0, description="Words past model.max_length, predicted 'O'.")
    predictions_artifact: str | None = Field(None, description="JSONL: row_id, gold and predicted spans (offsets "
                                                               "and labels only).")


class NameGroupRecall(Record):
    group: str
    names: int = Field(description="Names of the group swapped in.")
    spans: int = Field(description="Swapped person spans scored (documents x names).")
    recall: Estimate = Field(description="Share of swapped spans found as the person type with the name's words "
                                         "covered (partial match).")
    exact_recall: Estimate = Field(description="Share found with exactly the name's boundaries (strict).")


class NameFamilyParity(Record):
    """One name family (e.g. names_ethnicity): recall per group and the lowest / highest ratio."""

    family: str
    groups: list[NameGroupRecall] = Field(default_factory=list)
    lowest_group: str | None = None
    highest_group: str | None = None
    recall_ratio: Estimate = Field(default_factory=Estimate, description="Lowest / highest group recall (partial), "
                                                                         "paired bootstrap over documents.")
    recall_gap: Estimate = Field(default_factory=Estimate, description="Highest - lowest group recall (partial).")


class EntityParitySection(Record):
    """Entity recall parity: one person span per document replaced by names of each group, the sentence kept."""

    entity: str
    n_docs: int
    names_source: str
    families: list[NameFamilyParity] = Field(default_factory=list)
    original_recall: Estimate = Field(default_factory=Estimate, description="Recall (partial) of the same spans with "
                                                                            "their original names.")
    n_boot: int = 0
    ci_level: float = 0.95
    seed: int = 13


class SpanFlipGroup(Record):
    group: str
    swaps: int = Field(description="Swapped documents scored (documents x names), truncated ones left out.")
    flip_rate: Estimate = Field(description="Share of swaps whose predicted entities change anywhere (docs/ner.md).")
    outside_rate: Estimate = Field(description="Share whose entities outside the swapped name change (appear, vanish, "
                                               "move or change type).")
    inside_rate: Estimate = Field(description="Share whose entities over the swapped name change type or boundaries "
                                              "relative to the name.")
    docs_flipped: int = Field(0, description="Documents with at least one flip among this group's names.")


class SpanFlipFamily(Record):
    """One name family: span-flip rates per group, the highest group and the highest - lowest gap."""

    family: str
    groups: list[SpanFlipGroup] = Field(default_factory=list)
    highest_group: str | None = None
    lowest_group: str | None = None
    highest_flip_rate: Estimate = Field(default_factory=Estimate, description="The highest group's flip rate.")
    flip_gap: Estimate = Field(default_factory=Estimate, description="Highest - lowest group flip rate, paired "
                                                                     "bootstrap over documents.")


class SpanFlipSection(Record):
    """Counterfactual name swaps that change spans: the same swaps as entity parity, predicted entities compared."""

    entity: str
    n_docs: int
    names_source: str
    families: list[SpanFlipFamily] = Field(default_factory=list)
    truncated_swaps: int = Field(0, description="Swaps left out because the original or swapped document was longer "
                                                "than model.max_length.")
    n_boot: int = 0
    ci_level: float = 0.95
    seed: int = 13


class SpanTypeAttribution(Record):
    """Attributions of the sampled predicted spans of one entity type (docs/ner.md)."""

    label: str
    n_spans: int
    inside_share: Estimate = Field(description="Mean share of a span's absolute attribution mass on its own words "
                                               "(the rest is context).")
    name_share: Estimate | None = Field(None, description="Types other than the person type: mean share on words of "
                                                          "person spans (gold or predicted) in the same document.")
    top_context_words: list[tuple[str, float]] = Field(
        default_factory=list, description="Context words by mean signed attribution, lower-cased; never a word of a "
                                          "gold or predicted entity, a word with a digit, or one seen in fewer than "
                                          "2 documents of the sample.")


class SpanAttributionSection(Record):
    """captum LayerIntegratedGradients per predicted span: the span's predicted-tag logits attributed to the words."""

    method: str = "LayerIntegratedGradients"
    baseline: str = "pad"
    n_steps: int
    precision: str = "fp32"
    person_label: str
    spans_predicted: int = Field(description="Predicted spans in the held-out documents (the sampled population).")
    n_spans: int = Field(description="Spans attributed (seeded sample, balanced over entity types).")
    n_docs: int = Field(description="Documents the sampled spans come from.")
    per_type: list[SpanTypeAttribution] = Field(default_factory=list)
    inside_share: Estimate = Field(default_factory=Estimate, description="All types, weighted back to the population.")
    name_share: Estimate = Field(default_factory=Estimate, description="Spans of types other than the person type: "
                                                                       "share on person-name words, weighted.")
    mean_relative_delta: float = 0.0
    large_delta_count: int = 0
    note: str | None = None
