"""The monitoring policy: thresholds with severities, minimum window size, consecutive-window rules (YAML)."""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit.core.config import unknown_key_node, yaml_node_at
from audit.core.errors import BadInputError
from audit.core.io import sha256_bytes

__all__ = ["MonitorSeverity", "MonitorCheck", "VolumeCheck", "DriftCheck", "RateIncreaseCheck", "RateMaxCheck",
           "ImpactRatioCheck", "RateChangeCheck", "ErrorRateParityCheck", "AccuracyDropCheck", "MonitorChecks", "MonitorPolicy",
           "LoadedMonitorPolicy", "load_monitor_policy", "monitor_policy_from_text"]

MonitorSeverity = Literal["alert", "warn"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MonitorCheck(_Strict):
    enabled: bool = True
    severity: MonitorSeverity = Field("alert", description="alert: exit 1 while active; warn: reported only.")
    consecutive: int | None = Field(None, ge=1, description="Windows in a row over the threshold before it fires; "
                                                            "default: the policy's.")
    source: str = ""


class VolumeCheck(MonitorCheck):
    min_ratio: float = Field(0.5, gt=0, le=1, description="Window rows / median rows of up to 8 previous windows.")


class DriftCheck(MonitorCheck):
    max_psi: float = Field(0.1, gt=0, description="PSI above this (and the test's p below alpha) is drift.")


class RateIncreaseCheck(MonitorCheck):
    max_increase: float = Field(0.02, gt=0, le=1, description="Rise over the reference rate (absolute).")


class RateMaxCheck(MonitorCheck):
    max: float = Field(0.01, ge=0, le=1, description="Highest rate allowed (absolute).")


class ImpactRatioCheck(MonitorCheck):
    min: float = Field(0.8, gt=0, le=1)
    use_ci_bound: bool = Field(True, description="Breach only when the CI's upper bound is below min.")


class RateChangeCheck(MonitorCheck):
    max_change: float = Field(0.1, gt=0, le=1, description="Largest change of a group's selection rate from its "
                                                           "reference rate (absolute), with p below alpha.")


class ErrorRateParityCheck(MonitorCheck):
    rates: list[Literal["fpr", "fnr"]] = Field(default_factory=lambda: ["fpr", "fnr"],
                                               description="Error rates compared across groups, favorable class positive.")
    max_gap: float = Field(0.1, gt=0, le=1, description="Largest gap between a group's error rate and the lowest "
                                                        "judged group's (absolute), on rows whose label has arrived.")
    use_ci_bound: bool = Field(False, description="Breach when the gap's CI lower bound is above max_gap (else: the "
                                                  "gap above max_gap with the two-proportion test's p below alpha).")


class AccuracyDropCheck(MonitorCheck):
    max_drop: float = Field(0.05, gt=0, le=1, description="Accuracy drop from the reference on labeled rows.")


class MonitorChecks(_Strict):
    volume: VolumeCheck = Field(default_factory=lambda: VolumeCheck(severity="warn"))
    prediction_drift: DriftCheck = Field(default_factory=DriftCheck)
    score_drift: DriftCheck = Field(default_factory=DriftCheck)
    text_length_drift: DriftCheck = Field(default_factory=lambda: DriftCheck(severity="warn"))
    script_mix_drift: DriftCheck = Field(default_factory=lambda: DriftCheck(severity="warn"))
    oov_rate: RateIncreaseCheck = Field(default_factory=lambda: RateIncreaseCheck(severity="warn"))
    pii_rate: RateMaxCheck = Field(default_factory=lambda: RateMaxCheck(severity="warn"))
    embedding_drift: MonitorCheck = Field(default_factory=lambda: MonitorCheck(severity="warn"))
    impact_ratio: ImpactRatioCheck = Field(default_factory=ImpactRatioCheck)
    selection_rate_change: RateChangeCheck = Field(default_factory=RateChangeCheck)
    error_rate_parity: ErrorRateParityCheck = Field(default_factory=lambda: ErrorRateParityCheck(consecutive=2))
    accuracy_drop: AccuracyDropCheck = Field(default_factory=AccuracyDropCheck)


class MonitorPolicy(_Strict):
    version: Literal[1] = 1
    name: str
    description: str = ""
    alpha: float = Field(0.01, gt=0, lt=0.5, description="Significance level of every test.")
    consecutive: int = Field(1, ge=1, description="Default windows in a row before a check fires.")
    min_window_rows: int = Field(200, ge=1, description="Smaller windows are reported but not judged.")
    min_group_size: int = Field(30, ge=1, description="Smaller groups in a window are reported but not judged.")
    min_labeled_rows: int = Field(100, ge=1, description="Fewer delayed labels in a window: no performance verdict.")
    checks: MonitorChecks = Field(default_factory=MonitorChecks)


class LoadedMonitorPolicy(BaseModel):
    policy: MonitorPolicy
    sha256: str
    source: str


def _errors(err: ValidationError, source: str, root: yaml.Node | None) -> str:
    lines = []
    for item in err.errors():
        loc = tuple(item["loc"])
        extra = item["type"] == "extra_forbidden"
        node = unknown_key_node(root, loc) if extra else yaml_node_at(root, loc)
        where = f"{source}:{node.start_mark.line + 1}" if node is not None else source
        msg = (f"unknown check; known checks: {', '.join(MonitorChecks.model_fields)}"
               if extra and len(loc) == 2 and loc[0] == "checks" else "unknown key" if extra
               else item["msg"].removeprefix("Value error, "))
        lines.append(f"{where}: {'.'.join(map(str, loc)) or '(top level)'}: {msg}")
    return "; ".join(lines)


def monitor_policy_from_text(text: str, *, source: str) -> MonitorPolicy:
    try:
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise BadInputError(f"invalid YAML: {getattr(err, 'problem', None) or err}",
                            where=f"{source}:{mark.line + 1}" if mark else source) from None
    if not isinstance(data, dict):
        raise BadInputError("a monitoring policy must be a YAML mapping with `name:`", where=source,
                            fix="start from audit/data/monitor/default.yaml")
    try:
        return MonitorPolicy.model_validate(data)
    except ValidationError as err:
        raise BadInputError(_errors(err, source, root), fix="see docs/monitoring.md") from None


def load_monitor_policy(path: str | Path | None = None) -> LoadedMonitorPolicy:
    """A monitoring policy file, or the shipped one (None or 'default')."""
    if path is None or str(path) in ("default", "builtin:default"):
        raw = resources.files("audit").joinpath("data", "monitor", "default.yaml").read_bytes()
        source = "builtin:default"
    else:
        file = Path(path)
        if not file.is_file():
            raise BadInputError(f"monitoring policy not found: {file}", fix="pass --policy PATH to a monitoring policy YAML")
        raw, source = file.read_bytes(), str(file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadInputError(f"monitoring policy is not UTF-8 (byte {err.start})", where=source) from None
    return LoadedMonitorPolicy(policy=monitor_policy_from_text(text, source=source), sha256=sha256_bytes(raw), source=source)
