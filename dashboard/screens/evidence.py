"""Drill-down on the run page: which tab and grouping a check's evidence is in, and the panels read from the
predictions artifact (per-group confusion matrices, reliability diagram, threshold what-if)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from audit.record import FairnessSection, GroupingResult, RunRecord
from audit.record.store import RunStore
from dashboard.charts import draw
from dashboard.data import confusion_by_group, reliability, threshold_sweep
from dashboard.widgets import md

__all__ = ["ROUNDED", "Target", "check_target", "predictions_path", "confusion_panel", "calibration_panel",
           "threshold_panel", "THRESHOLDS"]

_3 = st.column_config.NumberColumn(format="%.3f")
# Every float column the run and compare pages show, rounded as the report prints numbers (3 decimals).
ROUNDED = {name: _3 for name in ("value", "ci_low", "ci_high", "accuracy", "macro-F1", "ECE (15 bins)", "A", "B",
                                 "B - A", "selection rate", "impact ratio", "confidence", "reliance share",
                                 "attribution", "mean_shift", "max |shift|", "share of true")}
THRESHOLDS = tuple(round(t, 2) for t in [i / 100 for i in range(5, 96)])
_TAB = {"impact_ratio": "Fairness", "demographic_parity_difference": "Fairness", "equalized_odds_difference": "Fairness",
        "counterfactual_flip_rate": "Counterfactual", "sensitive_token_reliance": "Attribution",
        "macro_f1": "Performance", "residual_pii": "Scrubbing", "no_training_waiver": "Training"}


@dataclass(frozen=True)
class Target:
    """Where a check's evidence is on the run page: the tab, and for fairness checks the grouping."""

    tab: str
    grouping: str | None = None


def check_target(record: RunRecord, check_id: str | None) -> Target | None:
    """The tab (and grouping) for `?check=<id>`; None for an unknown id or a check without a chart (sign-off)."""
    if not check_id or record.policy is None or check_id not in {c.id for c in record.policy.checks}:
        return None
    base, _, key = check_id.partition(":")
    tab = _TAB.get(base)
    if tab is None:
        return None
    grouping = next((g.name for g in (record.fairness.groupings if record.fairness else [])
                     if key in (g.name, f"{g.name} [{g.outcome}]")), None) if tab == "Fairness" else None
    return Target(tab, grouping)


def predictions_path(store: RunStore, record: RunRecord) -> Path | None:
    """The run's predictions Parquet, if the audit wrote one and it is still in the store."""
    artifact = record.fairness.predictions_artifact if record.fairness else None
    if not artifact:
        return None
    path = store.artifact(record.run_id, artifact)
    return path if path.is_file() and path.suffix == ".parquet" else None


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def confusion_panel(path: Path, grouping: GroupingResult | None) -> None:
    """Confusion matrix per group of `grouping` (None: one matrix for all rows)."""
    features = tuple(grouping.features) if grouping else ()
    frame = confusion_by_group(str(path), _stamp(path), features)
    if frame is None:
        st.caption("The predictions artifact lacks labels, predictions or this grouping's columns: no confusion matrix.")
        return
    title = f"Confusion matrix per group of {grouping.name}" if grouping else "Confusion matrix (audit sample)"
    st.markdown(md(title))
    draw("confusion", frame, width="content")


def calibration_panel(path: Path, fairness: FairnessSection) -> None:
    """Reliability diagram behind the ECE: accuracy against confidence in the ECE's 15 bins."""
    frame = reliability(str(path), _stamp(path), tuple(fairness.labels))
    if frame is None:
        st.caption("The predictions artifact has no per-class probabilities: no reliability diagram.")
        return
    n = int(frame["rows"].sum())
    ece = float((frame["rows"] / n * (frame["accuracy"] - frame["confidence"]).abs()).sum())
    st.markdown(md(f"Reliability diagram (audit sample, {n:,} rows; ECE from these bins {ece:.3f})"))
    draw("reliability", frame, width="stretch")
    st.caption("Points below the dashed diagonal are over-confident bins (accuracy lower than the probability).")


def threshold_panel(path: Path, grouping: GroupingResult, favorable: str, minimum: float) -> None:
    """Selection rates and impact ratios of each group as the decision threshold on P(favorable) moves."""
    excluded = tuple(g.group for g in grouping.groups if g.small or g.unknown)
    sweep = threshold_sweep(str(path), _stamp(path), tuple(grouping.features), favorable, THRESHOLDS,
                            excluded=excluded)
    if sweep is None:
        st.caption(md(f"The predictions artifact has no P({favorable}) or no columns for {grouping.name}: "
                      "no threshold what-if."))
        return
    st.markdown(md(f"Threshold what-if: {grouping.name}, outcome {favorable}"))
    chosen = st.slider("Decision threshold on P(favorable)", 0.05, 0.95, 0.5, 0.01, key=f"what_if_{grouping.name}")
    draw("threshold", sweep, chosen, minimum, width="stretch")
    at = sweep[sweep["threshold"].sub(chosen).abs() < 1e-9].drop(columns=["threshold"])
    table = at.rename(columns={"selection_rate": "selection rate", "impact_ratio": "impact ratio"})
    table["below minimum"] = (table["impact ratio"] < minimum) & ~table["small"]
    st.dataframe(table, hide_index=True, width="stretch", column_config=ROUNDED)
    st.caption(md(f"Selection rate = share of the group's rows with P({favorable}) ≥ threshold; impact ratio = rate / "
                  f"highest rate among the groups with a verdict (not small or unknown; dashed: {minimum:.2f}). At 0.50 this equals the "
                  "audit's binary decision; other thresholds are what-ifs, not the audited model."))
