"""Post-deployment monitoring: production prediction logs, in windows, compared with the run's reference.

- `parse_window` ('7d', '24h', '1000rows'), `LogSchema` (the log's column mapping and the model's labels).
- `TextDescriber`: text descriptors in memory (length, OOV tokens vs training, PII via a passed-in detector, script).
- `update_windows`: ingest new logs into per-window sufficient statistics (`monitoring/windows.json`), idempotent.
- `reference_stats` / `Reference`: the held-out statistics windows are compared with.
- `Embed` / `sample_path`: optional embedding samples per window for the MMD drift test.
- `monitoring_section`: judge every window with a `MonitorPolicy` (`load_monitor_policy`) into `record.monitoring`.
- `summary_lines`, `junit_xml`, `markdown_summary`: outputs for people and schedulers.
Statistics are defined in docs/monitoring.md.
"""
from __future__ import annotations

from ._descriptors import PiiDetector, TextDescriber, Tokenize, dominant_script
from ._drift import (binned_ks, chi_square_p, difference_ci, impact_ratio_ci, mmd_permutation, psi, two_proportion_p,
                     wilson)
from ._embeddings import EMBED_DIR, Embed, load_sample, sample_path, save_sample
from ._evaluate import Window, accuracy, evaluate_windows, macro_f1
from ._ingest import LogSchema
from ._monitor import Ingested, monitoring_section, reference_stats, update_windows
from ._outputs import junit_xml, markdown_summary, summary_lines
from ._policy import LoadedMonitorPolicy, MonitorPolicy, load_monitor_policy, monitor_policy_from_text
from ._stats import GroupStats, TextCounts, WindowStats
from ._store import MONITOR_DIR, REFERENCE_FILE, WINDOWS_FILE, Reference, load_reference, save_reference, save_state
from ._windows import WindowSpec, parse_window

__all__ = [
    "parse_window", "WindowSpec", "LogSchema", "TextDescriber", "Tokenize", "PiiDetector", "dominant_script",
    "update_windows", "Ingested", "reference_stats", "Reference", "load_reference", "save_reference", "save_state",
    "monitoring_section", "evaluate_windows", "Window", "MonitorPolicy", "LoadedMonitorPolicy", "load_monitor_policy",
    "monitor_policy_from_text", "summary_lines", "junit_xml", "markdown_summary", "GroupStats", "TextCounts",
    "WindowStats", "MONITOR_DIR", "WINDOWS_FILE", "REFERENCE_FILE", "psi", "chi_square_p", "binned_ks", "wilson",
    "two_proportion_p", "impact_ratio_ci", "difference_ci", "mmd_permutation", "accuracy", "macro_f1", "Embed", "EMBED_DIR",
    "sample_path", "load_sample", "save_sample",
]
