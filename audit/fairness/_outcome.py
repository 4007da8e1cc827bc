"""Which outcome counts as selected, and the per-row state codes every fairness count is built from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from audit.core.config import FairnessConfig
from audit.core.errors import BadInputError

__all__ = ["Direction", "Outcome", "resolve_outcomes", "StateCells", "state_cells"]


Direction = Literal["favorable", "adverse", "neutral"]


@dataclass(frozen=True)
class Outcome:
    """An audited outcome: the label indices that count as selected (one class, or an adverse class's complement),
    and its direction (what the policy checks judge: selection for favorable/adverse, error parity for neutral)."""

    name: str
    classes: tuple[int, ...]
    direction: Direction = "favorable"

    def mask(self, label_index: np.ndarray) -> np.ndarray:
        return np.isin(label_index, self.classes)


def _complement(labels: list[str], adverse: int) -> Outcome:
    rest = tuple(i for i in range(len(labels)) if i != adverse)
    name = labels[rest[0]] if len(rest) == 1 else f"not {labels[adverse]}"
    return Outcome(name, rest, "adverse")


def resolve_outcomes(labels: list[str], config: FairnessConfig) -> list[Outcome]:
    """The outcome(s) to audit from `config.fairness`; unknown labels are bad input (exit 2)."""
    index = {label: i for i, label in enumerate(labels)}

    def known(label: str, key: str) -> int:
        if label not in index:
            raise BadInputError(f"fairness.{key} {label!r} is not a label of the model (it knows {labels})",
                                where="config fairness", fix=f"set fairness.{key} to one of {labels}")
        return index[label]

    if config.classes:
        outcomes = []
        for label, direction in config.classes.items():
            i = known(label, "classes")
            outcomes.append(_complement(labels, i) if direction == "adverse" else Outcome(label, (i,), direction))
    elif config.favorable_label is not None:
        outcomes = [Outcome(config.favorable_label, (known(config.favorable_label, "favorable_label"),))]
    elif config.adverse_label is not None:
        outcomes = [_complement(labels, known(config.adverse_label, "adverse_label"))]
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
class StateCells:
    """For each state of `GroupCounts.states()`: its true and predicted label, and per outcome its 2x2 cell
    (truth*2 + decision). Score outcomes: the decision is the 'above threshold' bit, not the predicted label."""

    n_states: int
    outcome_cell: dict[str, np.ndarray]
    state_true: np.ndarray
    state_pred: np.ndarray


def state_cells(n_labels: int, outcomes: list[Outcome], *, scored: bool) -> StateCells:
    k = n_labels
    true_of = np.repeat(np.arange(k), k)
    pred_of = np.tile(np.arange(k), k)
    if not scored:
        cells = {o.name: (o.mask(true_of) * 2 + o.mask(pred_of)).astype(np.int64) for o in outcomes}
        return StateCells(k * k, cells, true_of, pred_of)
    (outcome,) = outcomes
    true2, pred2, dec2 = np.repeat(true_of, 2), np.repeat(pred_of, 2), np.tile([False, True], k * k)
    cells = {outcome.name: (outcome.mask(true2) * 2 + dec2).astype(np.int64)}
    return StateCells(2 * k * k, cells, true2, pred2)
