"""Run-record sections of a token classifier (task: token_classification): entity metrics and name-swap parity.

Written by `govaudit train` (entity metrics on the test split) and `govaudit audit` (entity-recall parity).
Never holds text: predictions are offsets and labels, names are group names only.
"""
from __future__ import annotations

from pydantic import Field

from ._common import Estimate, Record

__all__ = ["EntityScore", "EntityMetrics", "EntitySection", "NameGroupRecall", "NameFamilyParity", "EntityParitySection"]


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
