"""Small builders of fairness record sections for policy and gate tests."""
from __future__ import annotations

from audit.record import ClassificationMetrics, Estimate, FairnessSection, GroupingResult, GroupResult


def group(name: str, count: int, ratio: float | None, *, ci: tuple[float, float] | None = None, small: bool = False,
          rate: float = 0.3) -> GroupResult:
    est = Estimate(value=ratio, ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None,
                   note=None if ratio is not None else "reference rate is 0")
    return GroupResult(group=name, count=count, share=count / 1000, small=small, impact_ratio=est,
                       metrics={"selection_rate": Estimate(value=rate)})


def grouping(name: str, groups: list[GroupResult], *, dp: Estimate | None = None, eo: Estimate | None = None,
             outcome: str = "relief") -> GroupingResult:
    disparities = {k: v for k, v in (("demographic_parity_difference", dp), ("equalized_odds_difference", eo)) if v}
    return GroupingResult(name=name, features=name.split(" × "), outcome=outcome, groups=groups,
                          disparities=disparities, reference_group=groups[0].group)


def fairness(*groupings: GroupingResult, macro_f1: float = 0.8) -> FairnessSection:
    return FairnessSection(task="binary", labels=["no_relief", "relief"], favorable_outcome="relief", n_rows=1000,
                           predictions_artifact="predictions.parquet", groupings=list(groupings),
                           overall=ClassificationMetrics(n=1000, accuracy=0.8, macro_f1=macro_f1))
