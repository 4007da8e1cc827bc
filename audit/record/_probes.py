"""Run-record sections for counterfactual identity swaps and captum attributions (audit/counterfactual, audit/attribution)."""
from __future__ import annotations

from pydantic import Field

from ._common import Estimate, Record

__all__ = ["SwapExample", "TermEffect", "AxisResult", "Coverage", "FamilyResult", "CounterfactualSection", "AttributedExample",
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
    original_spans: list[tuple[int, int]] = Field(default_factory=list, description="Replaced terms in `original`.")
    swapped_spans: list[tuple[int, int]] = Field(default_factory=list, description="Inserted terms in `swapped`.")


class TermEffect(Record):
    term: str
    mean_shift: float = Field(description="Within-text contrast: mean over texts of P(target | text with this term) "
                                          "minus the text's mean over all its versions (docs/probes.md).")
    n: int = Field(description="Texts (clusters) the contrast averages over.")
    ci_low: float | None = None
    ci_high: float | None = None
    toward: str | None = Field(None, description="Class whose probability this term raises most (largest contrast).")
    axis: str | None = Field(None, description="Identity axis of the term (pool results).")


class AxisResult(Record):
    from_axis: str = Field(description="Axis of the replaced terms ('mixed' if several).")
    to_axis: str = Field(description="Axis of the inserted terms, or 'all' / 'within' / 'cross'.")
    n_pairs: int
    n_examples: int
    flip_rate: Estimate
    mean_abs_shift: Estimate


class Coverage(Record):
    scope: str = Field(description="A family, 'axis:<axis>' of the identity pool, or 'identity_pool' (any term).")
    n_texts: int
    n_with_term: int = Field(description="Evaluated texts containing at least one term (anywhere in the text).")
    share: float


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
                                            description="Within-text contrast per group (as `direction`, per group).")
    note: str | None = None
    axes: list[AxisResult] = Field(default_factory=list, description="Identity pool: per-axis and cross-axis results.")
    n_moved: int = Field(0, description="Texts whose terms all lay beyond the model's window: window moved to them.")
    n_skipped: int = Field(0, description="Texts whose terms all lay beyond the model's window: not swapped.")
    worst_min_shift: float | None = Field(None, description="Worst examples: flips and |shift| >= this only.")


class CounterfactualSection(Record):
    target: str = Field(description="Class whose probability shift is measured.")
    families: list[FamilyResult] = Field(default_factory=list)
    templates: list[FamilyResult] = Field(default_factory=list)
    max_flip_rate: float | None = None
    mode: str = Field("family", description="Descriptor families: 'pool' (one identity pool), 'family', or 'both'.")
    max_length: int | None = Field(None, description="The model's window (tokens) the swaps were kept inside.")
    coverage: list[Coverage] = Field(default_factory=list)


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
