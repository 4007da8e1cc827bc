"""Run-record section written by `govaudit monitor` (audit/monitor): drift and fairness of production windows."""
from __future__ import annotations

from pydantic import Field

from ._common import Record

__all__ = ["GroupPoint", "WindowCheck", "MonitorWindow", "MonitorAlert", "LogFingerprint", "MonitoringSection"]


class GroupPoint(Record):
    """One group of one sensitive feature in one window (rates with Wilson / Katz 95% intervals)."""

    feature: str
    group: str
    n: int
    small: bool = Field(description="Fewer rows than the policy's min_group_size: reported, never judged.")
    selection_rate: float | None = None
    selection_ci: tuple[float, float] | None = None
    impact_ratio: float | None = Field(None, description="Selection rate / highest judged group's selection rate.")
    impact_ci: tuple[float, float] | None = None
    n_labeled: int = 0
    fpr: float | None = None
    fnr: float | None = None


class WindowCheck(Record):
    id: str
    subject: str | None = Field(None, description="Feature:group for fairness checks.")
    status: str = Field(description="pass, breach (threshold crossed, not yet consecutive enough), alert, skipped.")
    severity: str = Field(description="alert (exit 1) or warn (reported only).")
    measured: float | None = None
    threshold: float | None = None
    p_value: float | None = None
    evidence: str = ""


class MonitorWindow(Record):
    key: str = Field(description="Window id: the UTC start ('2023-05-01T00:00') or 'rows:<first>-<last>'.")
    start: str
    end: str
    n: int
    small: bool = Field(description="Fewer rows than min_window_rows: drift and fairness are not judged.")
    metrics: dict[str, float | None] = Field(default_factory=dict)
    groups: list[GroupPoint] = Field(default_factory=list)
    checks: list[WindowCheck] = Field(default_factory=list)


class MonitorAlert(Record):
    window: str
    check: str
    subject: str | None = None
    severity: str
    measured: float | None = None
    threshold: float | None = None
    evidence: str = ""
    active: bool = Field(description="In a window changed by the last monitor call or in the latest window.")


class LogFingerprint(Record):
    name: str = Field(description="File name only (paths may name customers or hosts).")
    file_sha256: str
    rows: int
    ingested_at: str


class MonitoringSection(Record):
    policy_name: str
    policy_sha256: str
    policy_source: str = ""
    evaluated_at: str
    window: str = Field(description="The window spec, e.g. '7d' or '1000rows'.")
    status: str = Field(description="ok, warn (warn-severity findings) or alert (an active alert-severity finding).")
    reference_rows: int = Field(description="Held-out prediction rows the windows are compared with.")
    reference_text_rows: int = Field(0, description="Training texts the text descriptors are compared with.")
    stats_artifact: str = Field(description="Per-window sufficient statistics (JSON) inside the run directory.")
    logs: list[LogFingerprint] = Field(default_factory=list)
    windows: list[MonitorWindow] = Field(default_factory=list)
    alerts: list[MonitorAlert] = Field(default_factory=list)
