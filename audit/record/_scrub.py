"""Run-record section written by `govaudit scrub` (finetune/scrub). Never holds an original (PII) value."""
from __future__ import annotations

from pydantic import Field

from ._common import DataFingerprint, Estimate, Execution, Record

__all__ = ["ResidualCheck", "ScrubTable", "ScrubDetector", "ScrubSection", "PiiEntityScore", "PiiEvaluation"]


class ResidualCheck(Record):
    passed: bool
    rows_scanned: int = Field(description="Changed texts checked (an unchanged text would give the same result).")
    rows_rescanned_whole: int | None = Field(None, description="Of those, texts re-scanned whole after scrubbing; the "
                                             "rest were checked by the last scrub pass (changed_regions scope).")
    scope: str = Field("whole_text", description="changed_regions: every replaced region +- rescan_margin was "
                                                 "analysed after its last change; whole_text: every changed text.")
    found: dict[str, int] = Field(default_factory=dict, description="Entities still found above threshold, by type.")


class ScrubTable(Record):
    """One scrubbed table (train or eval)."""

    role: str = "train"
    columns: list[str] = Field(description="Text columns scrubbed; all other columns are copied unaltered.")
    rows_total: int
    rows_touched: int
    share_rows_touched: float
    unique_texts: int = Field(0, description="Texts actually analysed after de-duplication (identical texts once).")
    counts: dict[str, dict[str, int]] = Field(default_factory=dict, description="column -> entity type -> count.")
    input: DataFingerprint
    output: DataFingerprint
    output_artifact: str | None = Field(description="Scrubbed Parquet table relative to the run directory; None if the "
                                                    "stage failed (the file is then deleted).")
    residual: ResidualCheck | None = None
    wall_time_s: float = 0.0
    texts_per_s: float = 0.0
    execution: Execution | None = Field(None, description="Engine, shards and per-shard hashes of a Ray run.")


class ScrubDetector(Record):
    """The trained token classifier the scrubber ran as a recognizer (`scrub.detector`): which model, exactly."""

    model_dir: str = Field(description="The model directory loaded (a run's model/, or scrub.detector.model_dir).")
    model_sha256: str = Field(description="SHA-256 over 'name:sha256' of each model file in name order (the key the "
                                          "audit's predict cache uses too).")
    files: dict[str, str] = Field(default_factory=dict, description="SHA-256 of each file of the model directory.")
    entities: list[str] = Field(default_factory=list, description="Scrubber entity types it reports.")
    min_score: float = 0.5


class ScrubSection(ScrubTable):
    """The stage: settings and engine, the train table's numbers at top level, every table under `tables`."""

    mode: str = Field(description="'full' (spaCy NER + patterns) or 'patterns' (no NER: no PERSON/LOCATION).")
    engine: dict[str, str] = Field(default_factory=dict, description="presidio, spacy and model versions.")
    operator: str
    pseudonym_key: str = Field("not used", description="Where the pseudonym HMAC key came from (never the key).")
    entities: list[str]
    entities_not_covered: list[str] = Field(default_factory=list,
                                            description="Requested but not detectable in this mode (patterns: no NER).")
    default_threshold: float
    thresholds: dict[str, float] = Field(default_factory=dict)
    allow_list_size: int = 0
    custom_recognizers: list[str] = Field(default_factory=list)
    detector: ScrubDetector | None = Field(None, description="scrub.detector: the model and its file hashes.")
    tables: dict[str, ScrubTable] = Field(default_factory=dict, description="role (train, eval) -> table.")


class PiiEntityScore(Record):
    support: int = Field(description="Labelled values of this type.")
    detected: int = Field(description="Spans the scrubber reported as this type (after the entity mapping).")
    recall: Estimate = Field(description="Labelled values overlapped by a detection of any PII type (docs/scrub.md).")
    type_recall: Estimate = Field(description="Labelled values overlapped by a detection of the same type.")
    values_gone: Estimate = Field(description="Labelled values no longer present verbatim in the scrubbed text.")
    precision: Estimate = Field(description="Detections of this type that overlap a labelled value of the same type.")


class PiiEvaluation(Record):
    """`govaudit scrub --evaluate LABELLED`: the scrubber scored on a labelled sample (the PII-recall certificate)."""

    data: DataFingerprint
    n_docs: int
    mode: str
    entity_map: dict[str, str] = Field(default_factory=dict, description="Labelled type -> scrubber type compared.")
    per_entity: dict[str, PiiEntityScore] = Field(default_factory=dict)
    micro: PiiEntityScore
    n_boot: int = 0
    ci_level: float = 0.95
    seed: int = 13
    wall_time_s: float = 0.0
