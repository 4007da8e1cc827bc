"""Run-record section written by `govaudit scrub` (finetune/scrub)."""
from __future__ import annotations

from pydantic import Field

from ._schema_common import DataFingerprint, Record

__all__ = ["ResidualCheck", "ScrubSection"]


class ResidualCheck(Record):
    passed: bool
    rows_scanned: int
    found: dict[str, int] = Field(default_factory=dict, description="Entities still found above threshold, by type.")


class ScrubSection(Record):
    mode: str = Field(description="'full' (spaCy NER + patterns) or 'patterns' (no NER: no PERSON/LOCATION).")
    engine: dict[str, str] = Field(default_factory=dict, description="presidio, spacy and model versions.")
    operator: str
    entities: list[str]
    default_threshold: float
    thresholds: dict[str, float] = Field(default_factory=dict)
    allow_list_size: int = 0
    custom_recognizers: list[str] = Field(default_factory=list)
    columns: list[str]
    rows_total: int
    rows_touched: int
    share_rows_touched: float
    unique_texts: int = 0
    counts: dict[str, dict[str, int]] = Field(default_factory=dict, description="column -> entity type -> count.")
    input: DataFingerprint
    output: DataFingerprint
    output_artifact: str = Field(description="Path of the scrubbed table, relative to the run directory.")
    residual: ResidualCheck | None = None
    wall_time_s: float = 0.0
    texts_per_s: float = 0.0
