"""Policy as code: a YAML policy of checks with thresholds and severities, evaluated on a run record.

    loaded = load_policy("default")            # or a path to your policy YAML
    section = evaluate_policy(record, loaded)  # reads only the record; returns record.policy
    section.verdict                            # 'pass', 'warn' or 'fail'

`govaudit gate` wraps this (exit 0 pass, 1 blocked, 2 bad input). Checks, thresholds and their sources: docs/policy.md.
"""
from __future__ import annotations

from ._checks import CHECKS, TITLES, SignoffSource
from ._evaluate import evaluate_policy
from ._model import (
                     BUILTIN_POLICIES,
                     CheckConfig,
                     Checks,
                     DisparityCheck,
                     FlipRateCheck,
                     ImpactRatioCheck,
                     LoadedPolicy,
                     MacroF1Check,
                     MonitoringGateCheck,
                     Policy,
                     RelianceCheck,
                     ResidualPiiCheck,
                     SignoffCheck,
                     TrainingWaiverCheck,
                     Waiver,
                     load_policy,
                     policy_from_text,
                     policy_json_schema,
)
from ._outputs import json_payload, junit_xml, markdown_summary, summary_lines

__all__ = [
    "Policy", "Checks", "CheckConfig", "ImpactRatioCheck", "DisparityCheck", "FlipRateCheck", "RelianceCheck",
    "MacroF1Check", "MonitoringGateCheck", "ResidualPiiCheck", "TrainingWaiverCheck", "SignoffCheck", "Waiver", "LoadedPolicy",
    "BUILTIN_POLICIES", "CHECK_IDS", "CHECK_TITLES", "SignoffSource", "load_policy", "policy_from_text",
    "evaluate_policy", "policy_json_schema", "summary_lines", "junit_xml",
    "markdown_summary", "json_payload",
]

CHECK_IDS = tuple(CHECKS)
CHECK_TITLES = dict(TITLES)
