"""Policy file models (YAML, pydantic, extra keys forbidden) and loading with file-line error messages."""
from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from audit.core.config import parse_yaml, unknown_key_node, yaml_node_at
from audit.core.errors import BadInputError
from audit.core.io import sha256_bytes

__all__ = ["Severity", "OnMissing", "UseCase", "USE_CASES", "CheckConfig", "ImpactRatioCheck", "DisparityCheck",
           "DisparityTestCheck", "MisroutingCheck", "FlipRateCheck",
           "RelianceCheck", "MacroF1Check", "EntityF1Check", "EntityParityCheck", "SpanFlipCheck", "SpanNameRelianceCheck", "PiiRecallCheck", "ResidualPiiCheck", "TrainingWaiverCheck", "SignoffCheck", "MonitoringGateCheck", "Checks",
           "Waiver", "Policy", "LoadedPolicy", "BUILTIN_POLICIES", "load_policy", "policy_from_text",
           "policy_json_schema"]

Severity = Literal["block", "warn"]
OnMissing = Literal["fail", "warn", "ignore"]
UseCase = Literal["general", "employment", "lending", "moderation", "routing"]
USE_CASES: tuple[str, ...] = ("general", "employment", "lending", "moderation", "routing")
BUILTIN_POLICIES = ("default", "strict", "lenient", "employment", "lending", "moderation", "routing", "ner")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckConfig(_Strict):
    """Settings every check has."""

    enabled: bool = True
    severity: Severity = Field("block", description="block: a failure fails the gate (exit 1); warn: reported only.")
    on_missing: OnMissing | None = Field(
        None, description="When the record lacks the section (or evidence) this check needs; default: the policy's.")
    source: str = Field("", description="Regulation or convention behind the threshold (shown with the result).")


class _CiChoice(CheckConfig):
    use_ci_bound: bool | None = Field(
        None, description="Compare the pessimistic CI bound (lower for minimums, upper for maximums) instead of the "
                          "point estimate; default: the policy's.")


class ImpactRatioCheck(_CiChoice):
    min: float = Field(0.8, gt=0, le=1, description="Minimum impact ratio (group selection rate / highest group's).")
    features: list[str] = Field(default_factory=list, description="Only these groupings (by name); empty: all.")
    intersections: bool = Field(True, description="Also judge intersectional groupings ('a × b').")


class DisparityCheck(_CiChoice):
    max: float = Field(0.1, ge=0, le=1, description="Maximum difference between groups (0..1).")
    features: list[str] = Field(default_factory=list, description="Only these groupings (by name); empty: all.")
    intersections: bool = True


class DisparityTestCheck(CheckConfig):
    """Fails when the test of 'any disparity' finds evidence (adjusted p-value below the section's alpha)."""

    metrics: list[Literal["selection_rate", "tpr", "fpr", "equalized_odds"]] = Field(
        default_factory=lambda: ["selection_rate"], description="Rates whose tests are judged (neutral classes: "
                                                                "selection_rate is skipped).")
    features: list[str] = Field(default_factory=list, description="Only these groupings (by name); empty: all.")
    intersections: bool = True


class MisroutingCheck(_CiChoice):
    max: float = Field(0.5, ge=0, le=1, description="Highest share of a group's rows of a neutral (routing) class that "
                                                    "are sent to another class (1 - recall), per group.")
    features: list[str] = Field(default_factory=list, description="Only these groupings (by name); empty: all.")
    intersections: bool = True


class FlipRateCheck(_CiChoice):
    max: float = Field(0.05, ge=0, le=1, description="Maximum share of predictions that flip under an identity swap.")
    templates: bool = Field(True, description="Also judge the template families.")


class RelianceCheck(_CiChoice):
    max: float = Field(0.1, ge=0, le=1, description="Maximum share of attribution mass on sensitive tokens.")


class MacroF1Check(CheckConfig):
    min: float = Field(0.6, ge=0, le=1, description="Minimum macro-F1 on held-out data.")


class EntityF1Check(_CiChoice):
    min: float = Field(0.8, ge=0, le=1, description="Minimum entity F1 of a token classifier on held-out documents.")
    scheme: Literal["strict", "partial"] = Field("strict", description="Entity matching (docs/ner.md).")
    entities: list[str] = Field(default_factory=list, description="Also judge these entity types one by one; empty: "
                                                                  "the micro F1 only.")


class EntityParityCheck(_CiChoice):
    min_ratio: float = Field(0.8, gt=0, le=1, description="Minimum lowest / highest group recall of swapped names.")
    families: list[str] = Field(default_factory=list, description="Only these name families; empty: all.")


class SpanFlipCheck(_CiChoice):
    max: float = Field(0.1, ge=0, le=1, description="Highest share of a group's name swaps that change the predicted "
                                                    "entities (outside or over the name), per name family.")
    families: list[str] = Field(default_factory=list, description="Only these name families; empty: all.")


class SpanNameRelianceCheck(_CiChoice):
    max: float = Field(0.2, ge=0, le=1, description="Highest mean share of the attribution of predicted spans of other "
                                                    "types on person-name words of the same document.")


class PiiRecallCheck(_CiChoice):
    min: float = Field(0.95, ge=0, le=1, description="Minimum recall of the scrubber per labelled entity type.")
    entities: list[str] = Field(default_factory=list, description="Labelled types judged; empty: every type in the "
                                                                  "evaluation.")
    min_support: int = Field(10, ge=1, description="Types with fewer labelled values get no verdict.")


class ResidualPiiCheck(CheckConfig):
    max_found: int = Field(0, ge=0, description="Most PII entities allowed in the scrubbed output's residual scan.")


class TrainingWaiverCheck(CheckConfig):
    """Fails when the model was trained on unscrubbed data under a waiver (`--allow-unscrubbed`)."""


class SignoffCheck(CheckConfig):
    """Fails unless reviewers approved this run's evidence in an intact sign-off ledger. A broken ledger always
    blocks, whatever the severity: tampering with the trail is never only a warning."""

    min_approvals: int = Field(1, ge=1, description="Approvals by distinct reviewers (not the run's owner) needed.")
    expires_after_days: int | None = Field(
        None, ge=1, description="An approval older than this many days no longer counts; None: approvals keep.")


class MonitoringGateCheck(CheckConfig):
    """Reads the run's post-deployment monitoring (the child run `<RUN>.monitor` that `govaudit monitor` writes): fails
    while monitoring alerts are open, or while one of the last windows holds an alert (closed or not). No monitoring
    run, or one older than `max_age_days`, is missing evidence (`on_missing`)."""

    max_open_alerts: int = Field(0, ge=0, description="Open (active) alert-severity monitoring alerts allowed.")
    count_warnings: bool = Field(False, description="Also count open warn-severity findings (and warn-severity "
                                                    "alerts in the last windows).")
    last_windows: int = Field(0, ge=0, description="Also fail when any of the last N windows holds an alert, even one "
                                                   "no longer open (a later window was quiet); 0: off.")
    max_age_days: int | None = Field(None, ge=1, description="Monitoring evaluated longer ago than this many days is "
                                                             "stale: treated as missing; None: any age.")


class Checks(_Strict):
    """Checks the policy runs; a check left out is not evaluated."""

    impact_ratio: ImpactRatioCheck | None = None
    demographic_parity_difference: DisparityCheck | None = None
    equalized_odds_difference: DisparityCheck | None = None
    true_positive_rate_difference: DisparityCheck | None = None
    false_positive_rate_difference: DisparityCheck | None = None
    misrouting_rate: MisroutingCheck | None = None
    disparity_test: DisparityTestCheck | None = None
    counterfactual_flip_rate: FlipRateCheck | None = None
    sensitive_token_reliance: RelianceCheck | None = None
    macro_f1: MacroF1Check | None = None
    entity_f1: EntityF1Check | None = None
    entity_recall_parity: EntityParityCheck | None = None
    span_flip_rate: SpanFlipCheck | None = None
    span_name_reliance: SpanNameRelianceCheck | None = None
    pii_recall: PiiRecallCheck | None = None
    residual_pii: ResidualPiiCheck | None = None
    no_training_waiver: TrainingWaiverCheck | None = None
    reviewer_signoff: SignoffCheck | None = None
    monitoring: MonitoringGateCheck | None = None

    def enabled(self) -> dict[str, CheckConfig]:
        return {name: cfg for name in type(self).model_fields if (cfg := getattr(self, name)) and cfg.enabled}


class Waiver(_Strict):
    """A dated exception: downgrades a named check (or one subject of it, 'check:subject') from block to warn."""

    check: str = Field(min_length=1, description="Check id, e.g. 'impact_ratio' or 'impact_ratio:age_group'.")
    owner: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    expires: date = Field(description="Last day the waiver applies (YYYY-MM-DD); later it is ignored and reported.")

    @property
    def check_id(self) -> str:
        return self.check.split(":", 1)[0]

    def describe(self) -> str:
        return f"{self.check} (owner {self.owner}, expires {self.expires.isoformat()}): {self.reason}"


class Policy(_Strict):
    version: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str = ""
    use_case: UseCase = Field("general", description="What the model decides; the report says which rules apply.")
    rationale: str = Field("", description="Why these checks fit the use case (shown in the report).")
    on_missing: OnMissing = Field("fail", description="Default for checks whose section is missing from the record.")
    use_ci_bound: bool = Field(False, description="Default: compare the pessimistic CI bound, not the point estimate.")
    min_group_size: int = Field(30, ge=1, description="Groups smaller than this get no verdict (reported too small).")
    checks: Checks
    waivers: list[Waiver] = Field(default_factory=list)
    allow_empty: bool = Field(False, description="Allow a policy with no enabled check (it passes every run); without "
                                                 "it such a policy is an error. A policy whose checks all warn is "
                                                 "allowed but the gate warns that it cannot block.")

    @model_validator(mode="after")
    def _waivers_name_checks(self) -> "Policy":
        known = set(Checks.model_fields)
        for waiver in self.waivers:
            if waiver.check_id not in known:
                raise ValueError(f"waiver names unknown check {waiver.check_id!r}; known checks: {sorted(known)}")
        return self

    @model_validator(mode="after")
    def _checks_something(self) -> "Policy":
        if not self.checks.enabled() and not self.allow_empty:
            raise ValueError("the policy enables no check, so it passes every run; add one (e.g. impact_ratio: "
                             "{min: 0.8}) or set allow_empty: true on purpose")
        return self

    def blocking(self) -> list[str]:
        """Enabled checks with severity block (none: the policy can never fail a run)."""
        return [name for name, cfg in self.checks.enabled().items() if cfg.severity == "block"]


class LoadedPolicy(BaseModel):
    policy: Policy
    sha256: str
    source: str


def _format_errors(err: ValidationError, source: str, root: yaml.Node | None) -> str:
    lines = []
    for item in err.errors():
        loc = tuple(item["loc"])
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        extra = item["type"] == "extra_forbidden"
        node = unknown_key_node(root, loc) if extra else yaml_node_at(root, loc)
        where = f"{source}:{node.start_mark.line + 1}" if node is not None else source
        if extra and len(loc) == 2 and loc[0] == "checks":
            msg = f"unknown check; known checks: {', '.join(Checks.model_fields)}"
        elif extra:
            msg = "unknown key"
        else:
            msg = item["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {dotted}: {msg}")
    return "; ".join(lines)


def policy_from_text(text: str, *, source: str) -> Policy:
    """Parse and validate policy YAML; every problem is a BadInputError naming the key and line."""
    data, root = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise BadInputError("a policy must be a YAML mapping with `name:` and `checks:`", where=source,
                            fix="start from audit/data/policies/default.yaml")
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        raise BadInputError(_format_errors(err, source, root),
                            fix="see docs/policy.md or `govaudit schema policy`") from None


def load_policy(path: str | Path | None = None) -> LoadedPolicy:
    """Load a policy file, or a shipped policy by name (see BUILTIN_POLICIES); None means 'default'."""
    name = "default" if path is None else str(path)
    if name.startswith("builtin:") or (name in BUILTIN_POLICIES and not Path(name).exists()):
        name = name.removeprefix("builtin:")
        if name not in BUILTIN_POLICIES:
            raise BadInputError(f"no shipped policy {name!r}", fix=f"choose one of {list(BUILTIN_POLICIES)}")
        raw = resources.files("audit").joinpath("data", "policies", f"{name}.yaml").read_bytes()
        source = f"builtin:{name}"
    else:
        file = Path(name)
        if not file.is_file():
            raise BadInputError(f"policy file not found: {file}",
                                fix=f"pass --policy PATH to a policy YAML, or one of {list(BUILTIN_POLICIES)}")
        raw = file.read_bytes()
        source = str(file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadInputError(f"policy is not UTF-8 (byte {err.start})", where=source) from None
    return LoadedPolicy(policy=policy_from_text(text, source=source), sha256=sha256_bytes(raw), source=source)


def policy_json_schema() -> dict[str, Any]:
    return Policy.model_json_schema()
