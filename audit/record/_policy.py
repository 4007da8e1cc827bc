"""Run-record section written by the policy evaluation (audit/policy, `govaudit gate`)."""
from __future__ import annotations

from pydantic import Field

from ._common import Record

__all__ = ["CheckResult", "LedgerState", "PolicySection"]


class CheckResult(Record):
    id: str = Field(description="Check id, with ':subject' when a check runs once per grouping or family.")
    title: str
    status: str = Field(description="pass, warn, fail or not_run.")
    severity: str = Field(description="block or warn.")
    effect: str = Field("none", description="What this result does to the verdict: block, warn or none. For not_run it "
                                            "follows the policy's on_missing (fail -> the check's severity).")
    subject: str | None = Field(None, description="Grouping, group or family the result is about.")
    measured: float | str | None = Field(None, description="The value compared with the threshold.")
    threshold: float | str | None = None
    basis: str | None = Field(None, description="'point estimate', 'CI lower bound' or 'CI upper bound'.")
    ci_low: float | None = None
    ci_high: float | None = None
    evidence: str = ""
    source: str = Field("", description="Regulation or convention behind the threshold.")
    waiver: str | None = Field(None, description="Waiver that downgraded this check from block to warn.")


class LedgerState(Record):
    """The sign-off ledger as the gate saw it: its head goes into the CI outputs, an anchor kept outside the store."""

    head: str
    entries: int
    intact: bool
    problems: list[str] = Field(default_factory=list)


class PolicySection(Record):
    policy_name: str
    policy_sha256: str
    policy_source: str = Field("", description="File the policy was read from, or 'builtin:<name>'.")
    use_case: str = Field("general", description="The use case the policy is written for (employment, lending, ...).")
    rationale: str = Field("", description="Why the policy's rules fit that use case (from the policy file).")
    evaluated_at: str
    verdict: str = Field(description="pass, warn or fail.")
    checks: list[CheckResult] = Field(default_factory=list)
    expired_waivers: list[str] = Field(default_factory=list)
    signoff_subject_sha256: str | None = Field(
        None, description="SHA-256 of the record without its policy section and updated_at: what an approval binds to.")
    signoff_ledger: LedgerState | None = Field(None, description="The sign-off ledger when the gate ran.")
