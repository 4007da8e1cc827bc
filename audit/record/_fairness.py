"""Run-record section written by the fairness audit (audit/fairness)."""
from __future__ import annotations

from pydantic import Field

from ._common import ClassificationMetrics, Estimate, Execution, Record

__all__ = ["GroupTest", "DisparityTest", "GroupResult", "GroupingResult", "MitigationResult", "FairnessSection"]


class GroupTest(Record):
    """A group's rate against the rest of the eligible groups: exact test p-value, and adjusted across the family."""

    p_value: float | None = None
    p_adjusted: float | None = Field(None, description="Adjusted over every group of every grouping (same outcome, metric).")


class DisparityTest(Record):
    """Test of 'any disparity' in one rate across a grouping's eligible groups (null: the rate does not depend on
    the group), with the p-value adjusted over the groupings (features and intersections) of the same outcome."""

    metric: str
    method: str
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    n_groups: int = 0
    n_perm: int = 0
    conclusion: str = Field("", description="'disparity detected', 'no evidence of disparity' or why not tested.")


class GroupResult(Record):
    group: str
    count: int
    share: float
    small: bool = Field(False, description="Below min_group_size: too small for a verdict (still a possible reference).")
    excluded: bool = Field(False, description="Share below min_group_share (LL144's 2%): excluded from the impact-ratio "
                                              "reference and verdicts; counts still reported.")
    unknown: bool = Field(False, description="A missing sensitive value (the 'unknown' group): reported, excluded from verdicts.")
    metrics: dict[str, Estimate] = Field(default_factory=dict, description="selection_rate, base_rate, accuracy, tpr, fpr, ...")
    impact_ratio: Estimate | None = None
    four_fifths_pass: bool | None = None
    one_person_flip: bool | None = Field(None, description="Would moving one decision change the four-fifths verdict?")
    differences: dict[str, Estimate] = Field(default_factory=dict, description="Signed rate - reference group's rate "
                                                                              "(selection_rate, tpr, fpr), bootstrap CI.")
    ratios: dict[str, Estimate] = Field(default_factory=dict, description="Rate / reference group's rate, bootstrap CI.")
    tests: dict[str, GroupTest] = Field(default_factory=dict, description="Exact test of the rate vs the other groups.")


class GroupingResult(Record):
    name: str = Field(description="A sensitive feature, or features joined by ' × ' for an intersection.")
    features: list[str]
    outcome: str = Field(description="The favorable outcome / class of interest these rates are computed for.")
    direction: str = Field("favorable", description="favorable (selection), adverse (rates are of its complement) or "
                                                    "neutral (routing: audited on error parity, no selection verdict).")
    groups: list[GroupResult]
    disparities: dict[str, Estimate] = Field(default_factory=dict)
    reference_group: str | None = Field(None, description="Highest selection rate among groups not excluded (LL144), "
                                                          "chosen on the full sample and kept in every resample.")
    four_fifths_failures: list[str] = Field(default_factory=list, description="Eligible groups whose impact ratio is below 0.8.")
    tests: dict[str, DisparityTest] = Field(default_factory=dict, description="selection_rate, tpr, fpr, equalized_odds.")


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
    use_case: str = Field("general", description="fairness.use_case: which preset policy the gate applies by default.")
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
    n_perm: int = 0
    alpha: float = 0.05
    correction: str = Field("holm", description="Multiple-comparison correction of the tests: holm or bh.")
    mitigation: MitigationResult | None = None
