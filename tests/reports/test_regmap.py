"""The NYC LL144 row of the regulatory map is green only when sex and race/ethnicity were both audited."""
from __future__ import annotations

from record_factory import make_record

from reports._model import build_report
from reports._regmap import LL144_PROVISION


def _ll144(features_by_grouping: list[list[str]]) -> dict:
    record = make_record()
    for grouping, features in zip(record.fairness.groupings, features_by_grouping):
        grouping.features = features
    (row,) = [r for r in build_report(record)["regulatory_map"] if r["provision"] == LL144_PROVISION]
    return row


def test_ll144_row_needs_sex_and_race_ethnicity():
    neither = _ll144([["age_group"], ["military_status"], ["age_group", "military_status"]])
    assert neither["status"] == "categories not audited" and "neither" in neither["note"]
    one = _ll144([["gender"], ["age_group"], ["gender", "age_group"]])
    assert one["status"] == "partial" and "sex: gender" in one["note"]
    both = _ll144([["sex"], ["race_ethnicity"], ["sex", "race_ethnicity"]])
    assert both["status"] == "evidence present"
