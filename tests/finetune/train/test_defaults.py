"""Training defaults for a newcomer: epochs by data size ('auto') and the default learning rate."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from audit.core.config import TrainConfig
from finetune.train import fit
from tests import tiny_models


def test_auto_epochs_follow_the_number_of_training_rows():
    config = TrainConfig()
    assert config.epochs == "auto" and config.learning_rate == 1e-4 and config.class_weights
    rows = (1, 100, 1000, 2000, 5333, 5334, 100_000)
    assert [config.epochs_for(n) for n in rows] == [10, 10, 10, 8, 4, 3, 3]
    assert TrainConfig(epochs=2).epochs_for(10) == 2 and TrainConfig(epochs=0.5).epochs_for(10) == 0.5
    with pytest.raises(ValidationError, match="epochs must be > 0 or 'auto'"):
        TrainConfig(epochs=0)
    with pytest.raises(ValidationError):
        TrainConfig(epochs="many")


def test_the_loop_trains_auto_epochs(tmp_path):
    texts = ["good refund given", "money returned fast", "no reply at all", "still charged twice"] * 5
    labels = ["relief", "relief", "none", "none"] * 5
    base = tiny_models.make_tiny_model(tmp_path / "base", ["none", "relief"], texts)
    out = fit(str(base), texts, labels, texts[:4], labels[:4], max_length=16, device="cpu",
              config=TrainConfig(batch_size=4, early_stopping_patience=0, precision="fp32"))
    assert out.result.steps_per_epoch == 5 and out.result.total_steps == 10 * 5  # 20 rows: ceil(16000 / 20) -> 10
