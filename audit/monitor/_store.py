"""The monitor's store inside the run directory: `monitoring/windows.json` (ingested logs + per-window sufficient
statistics, one atomic file) and `monitoring/reference.json` (the reference statistics and training vocabulary)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text
from audit.record import LogFingerprint

from ._stats import WindowStats

__all__ = ["MONITOR_DIR", "WINDOWS_FILE", "REFERENCE_FILE", "WindowState", "Reference", "load_state", "save_state",
           "load_reference", "save_reference"]

MONITOR_DIR = "monitoring"
WINDOWS_FILE = f"{MONITOR_DIR}/windows.json"
REFERENCE_FILE = f"{MONITOR_DIR}/reference.json"


@dataclass
class WindowState:
    window: str
    rows_ingested: int = 0
    logs: list[LogFingerprint] = field(default_factory=list)
    windows: dict[int, WindowStats] = field(default_factory=dict)


@dataclass
class Reference:
    """What windows are compared with: held-out predictions (+ labels, groups) and, with text, held-out descriptors."""

    stats: WindowStats
    source_sha256: str
    seen_token_ids: np.ndarray | None = None  # token ids occurring in the training texts
    text_rows: int = 0


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BadInputError("corrupt monitoring store (not JSON)", where=str(path),
                            fix="restore it, or delete the monitoring folder to start over") from None


def load_state(path: Path, window: str) -> WindowState:
    if not path.is_file():
        return WindowState(window)
    raw = _read(path)
    if raw.get("window") != window:
        raise BadInputError(f"this run is monitored in {raw.get('window')!r} windows, not {window!r}", where=str(path),
                            fix=f"use --window {raw.get('window')}, or delete {path.parent} to start over")
    return WindowState(raw["window"], raw["rows_ingested"], [LogFingerprint.model_validate(x) for x in raw["logs"]],
                       {int(k): WindowStats.from_dict(v) for k, v in raw["windows"].items()})


def save_state(path: Path, state: WindowState) -> None:
    payload = {"window": state.window, "rows_ingested": state.rows_ingested,
               "logs": [log.model_dump() for log in state.logs],
               "windows": {str(k): state.windows[k].to_dict() for k in sorted(state.windows)}}
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=True) + "\n")


def load_reference(path: Path) -> Reference | None:
    if not path.is_file():
        return None
    raw = _read(path)
    seen = raw.get("seen_token_ids")
    return Reference(WindowStats.from_dict(raw["stats"]), raw["source_sha256"],
                     None if seen is None else np.asarray(seen, np.int64), raw.get("text_rows", 0))


def save_reference(path: Path, reference: Reference) -> None:
    payload = {"source_sha256": reference.source_sha256, "stats": reference.stats.to_dict(),
               "text_rows": reference.text_rows,
               "seen_token_ids": None if reference.seen_token_ids is None else reference.seen_token_ids.tolist()}
    atomic_write_text(path, json.dumps(payload, sort_keys=True) + "\n")
