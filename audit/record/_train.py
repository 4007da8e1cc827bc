"""Run-record section written by `govaudit train` (finetune/train)."""
from __future__ import annotations

from pydantic import Field

from ._common import ClassificationMetrics, DataFingerprint, Record

__all__ = ["TrainingWaiver", "CurvePoint", "TrainSection"]


class TrainingWaiver(Record):
    """Training on unscrubbed data, allowed by `--allow-unscrubbed --reason`; shown by the report and gate."""

    reason: str
    by: str
    at: str


class CurvePoint(Record):
    step: int
    epoch: float
    train_loss: float | None = None
    val_macro_f1: float | None = None
    learning_rate: float | None = None


class TrainSection(Record):
    base_model: str = Field(description="'minilm' or the local directory used.")
    base_model_sha256: dict[str, str] = Field(default_factory=dict, description="file name -> SHA-256 of base-model files.")
    model_artifact: str = Field(description="Model directory relative to the run directory.")
    splits_artifact: str | None = Field(None, description="Parquet row_id -> split (train/validation/test), see docs/train.md.")
    config_sha256: str = Field("", description="SHA-256 of the project config the model was trained with.")
    task: str = Field(description="'binary' or 'multiclass'.")
    labels: list[str]
    data: list[DataFingerprint] = Field(default_factory=list)
    scrub_run_id: str | None = None
    waiver: TrainingWaiver | None = None
    hyperparameters: dict[str, object] = Field(default_factory=dict)
    seed: int
    split_sizes: dict[str, int] = Field(default_factory=dict)
    hardware: dict[str, str] = Field(default_factory=dict)
    libraries: dict[str, str] = Field(default_factory=dict)
    wall_time_s: float = 0.0
    samples_per_s: float = 0.0
    steps: int = 0
    epochs_completed: float = 0.0
    stopped_early: bool = False
    best_step: int | None = None
    resumed_from_step: int | None = None
    validation: ClassificationMetrics | None = None
    test: ClassificationMetrics | None = None
    curves: list[CurvePoint] = Field(default_factory=list)
