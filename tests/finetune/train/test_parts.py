"""Pieces of the training stage without a model: metrics, stratified splits, length-grouped batches, padding."""
from __future__ import annotations

import numpy as np
import pytest

from audit.core.config import SplitConfig
from audit.core.errors import BadInputError
from audit.record.metrics import classification_metrics, expected_calibration_error
from finetune.train._data import Collator, length_grouped_batches, make_splits


def test_ece_matches_hand_computation():
    # bin (0.6, 0.667]: conf 0.65 x2, one correct -> |0.5 - 0.65| ; bin (0.867, 0.933]: conf 0.9 x2, both correct -> 0.1
    proba = np.array([[0.65, 0.35], [0.35, 0.65], [0.9, 0.1], [0.1, 0.9]])
    y = np.array([0, 0, 0, 1])
    assert expected_calibration_error(y, proba) == pytest.approx((2 * 0.15 + 2 * 0.1) / 4)
    assert expected_calibration_error(np.array([0, 1]), np.array([[1.0, 0.0], [0.0, 1.0]])) == pytest.approx(0.0)


def test_classification_metrics_per_class_and_macro():
    proba = np.eye(3)[[0, 0, 1, 1, 2, 0]] * 0.8 + 0.2 / 3
    y = np.array([0, 0, 1, 1, 2, 2])
    m = classification_metrics(y, proba, ["a", "b", "c"])
    assert m.n == 6 and m.accuracy == pytest.approx(5 / 6)
    assert m.per_class["a"].precision == pytest.approx(2 / 3) and m.per_class["a"].recall == 1.0
    assert m.per_class["c"].precision == 1.0 and m.per_class["c"].recall == 0.5 and m.per_class["c"].support == 2
    assert m.macro_f1 == pytest.approx(np.mean([0.8, 1.0, 2 / 3]))
    with pytest.raises(ValueError):
        classification_metrics(y, proba[:, :2], ["a", "b", "c"])


def test_splits_are_stratified_seeded_and_refuse_tiny_classes():
    labels = np.array(["a"] * 60 + ["b"] * 20)
    split = make_splits(labels, SplitConfig(validation_size=0.1, test_size=0.25, seed=1), has_eval=False,
                        min_rows_per_class=3)
    assert (split == make_splits(labels, SplitConfig(validation_size=0.1, test_size=0.25, seed=1), has_eval=False,
                                 min_rows_per_class=3)).all()
    assert {name: int((split == name).sum()) for name in ("train", "validation", "test")} == \
        {"train": 52, "validation": 8, "test": 20}
    assert int(((split == "test") & (labels == "b")).sum()) == 5  # 25 % of each class
    other = make_splits(labels, SplitConfig(validation_size=0.1, test_size=0.25, seed=2), has_eval=False,
                        min_rows_per_class=3)
    assert (other != split).any()
    with_eval = make_splits(labels, SplitConfig(validation_size=0.25), has_eval=True, min_rows_per_class=3)
    assert set(with_eval) == {"train", "validation"}
    with pytest.raises(BadInputError, match="too few rows per class"):
        make_splits(np.array(["a"] * 30 + ["b"] * 2), SplitConfig(), has_eval=False, min_rows_per_class=3)
    with pytest.raises(BadInputError, match="too few rows per class"):  # 20 classes cannot all reach a 10-row test split
        make_splits(np.repeat(np.arange(20), 3).astype(str), SplitConfig(test_size=0.1), has_eval=False,
                    min_rows_per_class=3)


def test_length_grouped_batches_cover_rows_once_and_pad_little():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 120, size=1000)
    batches = length_grouped_batches(lengths, 16, seed=5, epoch=0)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(1000))
    assert lengths[batches[0]].max() == lengths.max()  # longest first
    again = length_grouped_batches(lengths, 16, seed=5, epoch=0)
    assert all((a == b).all() for a, b in zip(batches, again))
    assert any((a != b).any() for a, b in zip(batches, length_grouped_batches(lengths, 16, seed=5, epoch=1)))

    def padded(batch_list):
        return sum(len(b) * lengths[b].max() for b in batch_list)

    shuffled = np.array_split(rng.permutation(1000), len(batches))
    assert padded(batches) < 0.75 * padded(shuffled)


def test_collator_pads_to_the_longest_row_of_its_batch():
    collate = Collator([[2, 7, 3], [2, 3], [2, 8, 9, 9, 3]], np.array([1, 0, 1]), pad_id=0)
    batch = collate(np.array([0, 1]))
    assert batch["input_ids"].tolist() == [[2, 7, 3], [2, 3, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [1, 0]
