"""GroupCounts: the sufficient statistics add across shards, round-trip through JSON, and match plain counting."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.fairness import GroupCounts

LABELS = ["a", "b", "c"]


def _table(n: int, seed: int):
    rng = np.random.default_rng(seed)
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m", "unknown"], n), "race": rng.choice(["p", "q"], n)})
    return sensitive, rng.integers(0, 3, n), rng.integers(0, 3, n), rng.random(n)


def test_counts_match_plain_counting():
    sensitive, y_true, y_pred, _ = _table(500, 0)
    counts = GroupCounts.from_arrays(sensitive, y_true, y_pred, LABELS)
    assert counts.keys == tuple(sorted(set(zip(sensitive["sex"], sensitive["race"]))))
    for i, (sex, race) in enumerate(counts.keys):
        rows = (sensitive["sex"] == sex).to_numpy() & (sensitive["race"] == race).to_numpy()
        for t in range(3):
            for p in range(3):
                assert counts.confusion[i, t, p] == np.sum(rows & (y_true == t) & (y_pred == p))
    assert counts.n == 500


def test_shards_add_up_to_the_whole_table():
    sensitive, y_true, y_pred, score = _table(900, 1)
    whole = GroupCounts.from_arrays(sensitive, y_true, y_pred, LABELS, score=score, threshold=0.5)
    cuts = [0, 100, 450, 900]
    shards = [GroupCounts.from_arrays(sensitive.iloc[a:b], y_true[a:b], y_pred[a:b], LABELS, score=score[a:b],
                                      threshold=0.5) for a, b in zip(cuts, cuts[1:])]
    merged = GroupCounts.total(shards)
    assert merged.keys == whole.keys
    assert np.array_equal(merged.confusion, whole.confusion) and np.array_equal(merged.above, whole.above)
    assert np.array_equal((shards[0] + shards[1] + shards[2]).states(), whole.states())


def test_shard_missing_a_group_still_merges():
    sensitive = pd.DataFrame({"g": ["x", "x", "y"]})
    first = GroupCounts.from_arrays(sensitive.iloc[:2], np.array([0, 1]), np.array([1, 1]), ["no", "yes"])
    second = GroupCounts.from_arrays(sensitive.iloc[2:], np.array([1]), np.array([0]), ["no", "yes"])
    merged = first + second
    assert merged.keys == (("x",), ("y",)) and merged.confusion.tolist() == [[[0, 1], [0, 1]], [[0, 0], [1, 0]]]


def test_incompatible_counts_do_not_merge_and_json_round_trips():
    sensitive, y_true, y_pred, score = _table(50, 2)
    counts = GroupCounts.from_arrays(sensitive, y_true, y_pred, LABELS)
    with pytest.raises(ValueError, match="cannot be merged"):
        counts + GroupCounts.from_arrays(sensitive[["sex"]], y_true, y_pred, LABELS)
    with pytest.raises(ValueError, match="cannot be merged"):
        counts + GroupCounts.from_arrays(sensitive, y_true, y_pred, LABELS, score=score, threshold=0.5)
    back = GroupCounts.from_dict(counts.to_dict())
    assert back.keys == counts.keys and np.array_equal(back.confusion, counts.confusion)


def test_missing_values_become_text_like_astype_str():
    sensitive = pd.DataFrame({"g": ["x", None, "x"]})
    counts = GroupCounts.from_arrays(sensitive, np.array([0, 0, 1]), np.array([0, 1, 1]), ["no", "yes"])
    assert counts.keys == tuple(sorted({(str(v),) for v in sensitive["g"].astype(str)}))


def test_fairness_section_from_merged_shard_counts_equals_the_row_section():
    """What the Ray audit does: each shard counted by its actor, the driver adds the counts and audits the sum."""
    from audit.core.config import FairnessConfig
    from audit.fairness import fairness_section

    sensitive, y_true, y_pred, _ = _table(1200, 3)
    config = FairnessConfig(favorable_label="b", n_boot=300, n_perm=300, min_group_size=10)
    cuts = [0, 250, 700, 1200]
    merged = GroupCounts.total(GroupCounts.from_arrays(sensitive.iloc[a:b], y_true[a:b], y_pred[a:b], LABELS)
                               for a, b in zip(cuts, cuts[1:]))
    rows = fairness_section(y_true=y_true, y_pred=y_pred, labels=LABELS, sensitive=sensitive, config=config)
    counted = fairness_section(y_true=y_true, y_pred=y_pred, labels=LABELS, sensitive=sensitive, config=config,
                               counts=merged)
    assert counted.model_dump() == rows.model_dump()
    skewed = GroupCounts.total([merged, GroupCounts.from_arrays(sensitive.iloc[:50], y_true[:50], y_pred[:50], LABELS)])
    assert fairness_section(y_true=y_true, y_pred=y_pred, labels=LABELS, sensitive=sensitive, config=config,
                            counts=skewed).model_dump() != rows.model_dump()
