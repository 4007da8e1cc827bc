"""Run-record section written by the fairness audit (audit/fairness)."""
from __future__ import annotations

from pydantic import Field

from ._common import ClassificationMetrics, Estimate, Execution, Record

__all__ = ["GroupResult", "GroupingResult", "MitigationResult", "FairnessSection"]


class GroupResult(Record):
    group: str
    count: int
    share: float
    small: bool = Field(False, description="Below min_group_size or min_group_share: reported, flagged, excluded from verdicts.")
    unknown: bool = Field(False, description="A missing sensitive value (the 'unknown' group): reported, excluded from verdicts.")
    metrics: dict[str, Estimate] = Field(default_factory=dict, description="selection_rate, base_rate, accuracy, tpr, fpr, ...")
    impact_ratio: Estimate | None = None
    four_fifths_pass: bool | None = None
    one_person_flip: bool | None = Field(None, description="Would moving one decision change the four-fifths verdict?")


class GroupingResult(Record):
    name: str = Field(description="A sensitive feature, or features joined by ' × ' for an intersection.")
    features: list[str]
    outcome: str = Field(description="The favorable outcome / class of interest these rates are computed for.")
    groups: list[GroupResult]
    disparities: dict[str, Estimate] = Field(default_factory=dict)
    reference_group: str | None = Field(None, description="Highest selection rate among groups large enough for a verdict.")
    four_fifths_failures: list[str] = Field(default_factory=list, description="Eligible groups whose impact ratio is below 0.8.")


class MitigationResult(Record):
    method: str
    constraint: str
    thresholds_artifact: str
    sensitive_features: list[str] = Field(default_factory=list)
    n_calibration: int = 0
    n_evaluation: int = Field(0, description="Rows not used to fit the thresholds; before/after are measured on them.")
    before: dict[str, Estimate] = Field(default_factory=dict)
    after: dict[str, Estimate] = Field(default_factory=dict)
    accuracy_cost: float | None = None


class FairnessSection(Record):
    task: str
    labels: list[str]
    favorable_outcome: str
    outcome_kind: str = Field("label", description="'label' or 'score' (scoring rate = share above the sample median).")
    n_rows: int
    predictions_artifact: str
    execution: Execution | None = Field(None, description="Engine and shards of the predictions (Ray runs).")
    sensitive_features: list[str] = Field(default_factory=list)
    score_threshold: float | None = Field(None, description="outcome_kind 'score': the sample median of P(favorable).")
    overall: ClassificationMetrics | None = None
    groupings: list[GroupingResult] = Field(default_factory=list)
    unknown_counts: dict[str, int] = Field(default_factory=dict)
    overlap_with_training: int = 0
    n_boot: int = 0
    ci_level: float = 0.95
    mitigation: MitigationResult | None = None
