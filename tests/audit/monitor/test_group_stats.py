"""Per-group window counts on the shared GroupCounts: the store round-trips them and refuses the older format."""
from __future__ import annotations

import numpy as np
import pytest

from audit.core.errors import BadInputError
from audit.monitor import GroupStats


def test_round_trip_and_multiclass_favorable_classes():
    codes, names = np.array([0, 0, 1, 1, 1]), ["a", "b"]
    pred, truth = np.array([2, 0, 1, 2, 0]), np.array([2, 1, -1, 0, 0])
    stats = GroupStats.from_codes("f", codes, names, pred, truth, ["x", "y", "z"], (1, 2))
    assert {g: c.tolist() for g, c in stats.counts.items()} == {"a": [2, 1, 2, 2, 1, 0], "b": [3, 2, 2, 0, 0, 1]}
    back = GroupStats.from_dict(stats.to_dict())
    assert back.to_dict() == stats.to_dict() and back.labeled.confusion.shape == (2, 3, 3)


def test_older_store_format_is_refused():
    with pytest.raises(BadInputError, match="older govaudit"):
        GroupStats.from_dict({"a": [2, 2, 1, 1, 1, 0]})
