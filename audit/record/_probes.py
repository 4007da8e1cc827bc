"""Run-record sections for counterfactual identity swaps and captum attributions (audit/counterfactual, audit/attribution)."""
from __future__ import annotations

from pydantic import Field

from ._common import Estimate, Record

__all__ = ["SwapExample", "TermEffect", "FamilyResult", "CounterfactualSection", "AttributedExample",
           "GroupReliance", "AttributionSection"]


class SwapExample(Record):
    row_id: str
    original: str = Field(description="Scrubbed text only.")
    swapped: str
    swaps: list[str] = Field(default_factory=list, description="'term -> replacement' applied.")
    prob_before: float
    prob_after: float
    pred_before: str
    pred_after: str


class TermEffect(Record):
    term: str
    mean_shift: float
    n: int


class FamilyResult(Record):
    family: str
    source: str = Field("", description="Origin of the term list (paper, licence).")
    n_examples: int
    n_swapped: int
    flip_rate: Estimate
    mean_abs_shift: Estimate
    max_abs_shift: float
    direction: list[TermEffect] = Field(default_factory=list)
    worst_examples: list[SwapExample] = Field(default_factory=list)
    n_pairs: int = Field(0, description="(original, counterfactual) pairs evaluated.")
    group_effects: list[TermEffect] = Field(default_factory=list,
                                            description="Mean target-probability shift when a group's terms are inserted.")
    note: str | None = None


class CounterfactualSection(Record):
    target: str = Field(description="Class whose probability shift is measured.")
    families: list[FamilyResult] = Field(default_factory=list)
    templates: list[FamilyResult] = Field(default_factory=list)
    max_flip_rate: float | None = None


class AttributedExample(Record):
    row_id: str
    predicted: str
    words: list[str]
    scores: list[float]
    reliance_share: float
    delta: float


class GroupReliance(Record):
    feature: str
    group: str
    n: int
    share: Estimate


class AttributionSection(Record):
    method: str = "LayerIntegratedGradients"
    baseline: str = "pad"
    n_steps: int
    precision: str = Field("fp32", description="Arithmetic of the first pass: fp32 or bf16 (autocast); refinement runs in fp32.")
    n_examples: int
    mean_relative_delta: float
    large_delta_count: int
    top_words: dict[str, list[tuple[str, float]]] = Field(default_factory=dict)
    reliance_share: Estimate
    reliance_by_group: dict[str, dict[str, float]] = Field(default_factory=dict)
    group_reliance: list["GroupReliance"] = Field(default_factory=list, description="reliance_by_group with CIs.")
    sensitive_families: list[str] = Field(default_factory=list, description="Term families counted as sensitive.")
    relative_delta_max: float | None = None
    note: str | None = None
    top_reliance_examples: list[AttributedExample] = Field(default_factory=list)
    highlighted_examples: list[AttributedExample] = Field(default_factory=list)
