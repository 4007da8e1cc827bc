"""Run-record section written by the policy evaluation (audit/policy)."""
from __future__ import annotations

from pydantic import Field

from ._schema_common import Record

__all__ = ["CheckResult", "PolicySection"]


class CheckResult(Record):
    id: str
    title: str
    status: str = Field(description="pass, warn, fail or not_run.")
    severity: str = Field(description="block or warn.")
    measured: float | str | None = None
    threshold: float | str | None = None
    evidence: str = ""
    source: str = Field("", description="Regulation or convention behind the threshold.")
    waiver: str | None = None


class PolicySection(Record):
    policy_name: str
    policy_sha256: str
    evaluated_at: str
    verdict: str = Field(description="pass, warn or fail.")
    checks: list[CheckResult] = Field(default_factory=list)
    expired_waivers: list[str] = Field(default_factory=list)
