"""Which outcome counts as selected, and the per-row state codes every fairness count is built from."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.core.config import FairnessConfig
from audit.core.errors import BadInputError

__all__ = ["Outcome", "resolve_outcomes", "RowStates", "row_states"]


@dataclass(frozen=True)
class Outcome:
    """A favorable outcome: a set of label indices that count as selected (one class, or an adverse label's complement)."""

    name: str
    classes: tuple[int, ...]

    def mask(self, label_index: np.ndarray) -> np.ndarray:
        return np.isin(label_index, self.classes)


def resolve_outcomes(labels: list[str], config: FairnessConfig) -> list[Outcome]:
    """The outcome(s) to audit from `config.fairness`; unknown labels are bad input (exit 2)."""
    index = {label: i for i, label in enumerate(labels)}

    def known(label: str, key: str) -> int:
        if label not in index:
            raise BadInputError(f"fairness.{key} {label!r} is not a label of the model (it knows {labels})",
                                where="config fairness", fix=f"set fairness.{key} to one of {labels}")
        return index[label]

    if config.favorable_label is not None:
        outcomes = [Outcome(config.favorable_label, (known(config.favorable_label, "favorable_label"),))]
    elif config.adverse_label is not None:
        adverse = known(config.adverse_label, "adverse_label")
        rest = tuple(i for i in range(len(labels)) if i != adverse)
        name = labels[rest[0]] if len(rest) == 1 else f"not {config.adverse_label}"
        outcomes = [Outcome(name, rest)]
    elif config.classes_of_interest:
        outcomes = [Outcome(c, (known(c, "classes_of_interest"),)) for c in config.classes_of_interest]
    elif len(labels) > 2:
        outcomes = [Outcome(label, (i,)) for i, label in enumerate(labels)]
    else:
        raise BadInputError("no favorable outcome configured for a binary model",
                            where="config fairness",
                            fix=f"set fairness.favorable_label (or adverse_label) to one of {labels}")
    if config.outcome_kind == "score" and len(outcomes) != 1:
        raise BadInputError("outcome_kind 'score' audits one favorable outcome; several classes were given",
                            where="config fairness", fix="set favorable_label (or a single class of interest)")
    return outcomes


@dataclass(frozen=True)
class RowStates:
    """Per-row state code in [0, n_states) plus, per outcome, the 2x2 cell (truth*2 + decision) of each state.

    Label outputs: state = true*K + predicted (K*K states). Score outputs (one outcome): state adds the decision bit,
    because selection is "score above the sample median", not a function of the predicted label.
    """

    state: np.ndarray
    n_states: int
    outcome_cell: dict[str, np.ndarray]
    state_true: np.ndarray
    state_pred: np.ndarray
    decisions: dict[str, np.ndarray]
    score_threshold: float | None = None


def row_states(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int, outcomes: list[Outcome], *,
               kind: str = "label", proba: np.ndarray | None = None) -> RowStates:
    k = n_labels
    true_of = np.repeat(np.arange(k), k)
    pred_of = np.tile(np.arange(k), k)
    if kind == "label":
        state = y_true * k + y_pred
        cells = {o.name: (o.mask(true_of) * 2 + o.mask(pred_of)).astype(np.int64) for o in outcomes}
        decisions = {o.name: o.mask(y_pred) for o in outcomes}
        return RowStates(state.astype(np.int64), k * k, cells, true_of, pred_of, decisions)
    if proba is None:
        raise ValueError("score outcomes need class probabilities")
    (outcome,) = outcomes
    score = proba[:, list(outcome.classes)].sum(axis=1)
    threshold = float(np.median(score))
    decision = score > threshold
    state = (y_true * k + y_pred) * 2 + decision
    true2, pred2, dec2 = np.repeat(true_of, 2), np.repeat(pred_of, 2), np.tile([False, True], k * k)
    cells = {outcome.name: (outcome.mask(true2) * 2 + dec2).astype(np.int64)}
    return RowStates(state.astype(np.int64), 2 * k * k, cells, true2, pred2, {outcome.name: decision}, threshold)
