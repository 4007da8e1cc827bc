"""Building blocks shared by the run-record sections."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Record", "Estimate", "DataFingerprint", "ClassMetrics", "ClassificationMetrics", "Notice", "Execution",
           "Artifact", "SignoffAnchor"]


class Record(BaseModel):
    """Base of every run-record model: tolerant of fields added later within the same schema version."""

    model_config = ConfigDict(extra="ignore")


class Estimate(Record):
    """A point estimate with an optional bootstrap confidence interval; `value=None` means undefined (see note)."""

    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    note: str | None = Field(None, description="Why the value is undefined or unreliable, e.g. 'no positives in group'.")


class DataFingerprint(Record):
    role: str = Field(description="train, eval, scrubbed, predictions, ...")
    path: str
    format: str
    file_sha256: str
    table_sha256: str = Field(description="SHA-256 of the normalised table (column order and dtypes fixed).")
    rows: int
    columns: list[str]


class ClassMetrics(Record):
    precision: float
    recall: float
    f1: float
    support: int


class ClassificationMetrics(Record):
    n: int
    accuracy: float
    macro_f1: float
    ece: float | None = Field(None, description="Expected calibration error, 15 equal-width bins on max probability.")
    per_class: dict[str, ClassMetrics] = Field(default_factory=dict)


class Notice(Record):
    """A warning raised by a stage, shown in the report and dashboard."""

    stage: str
    code: str
    message: str


class Execution(Record):
    """Where a heavy loop ran and how it was split: the lineage of a sharded (Ray) run; absent for local runs."""

    engine: str = Field("local", description="'local' or 'ray'.")
    workers: int = Field(1, description="Actors that did the work.")
    shards: int = Field(0, description="Shards the input was cut into, in input order.")
    shards_reused: int = Field(0, description="Shards taken from an interrupted earlier run of the same input and "
                                              "settings instead of being computed again.")
    shard_sha256: list[str] = Field(default_factory=list, description="Per output shard, in order, the SHA-256 of its "
                                    "output: scrub, its normalised table (audit.core.data.table_sha256; the table's "
                                    "own hash covers all); predict, its float32 probabilities (row-major bytes).")


class Artifact(Record):
    """A file in the run directory with its SHA-256 when the stage that wrote it finished (`govaudit runs verify`)."""

    path: str = Field(description="Relative to the run directory.")
    sha256: str
    bytes: int
    stage: str = Field(description="The stage that wrote (or last changed) the file.")


class SignoffAnchor(Record):
    """The sign-off ledger's newest entry on a run, kept beside its record (`signoff-anchor.json`) by the ledger."""

    seq: int
    entry_hash: str
