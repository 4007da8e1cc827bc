"""Tables of the token-classifier sections (entity metrics, entity-recall parity) and the PII-recall certificate.

One builder for the HTML report, the Markdown report and the dashboard, so the three show the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

from audit.record import RunRecord

from ._format import est

__all__ = ["Table", "entity_tables"]


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _metrics_tables(record: RunRecord) -> list[Table]:
    section = record.entities
    if section is None:
        return []
    rows = []
    for name in ["micro", *section.strict.per_entity]:
        strict = section.strict.micro if name == "micro" else section.strict.per_entity[name]
        partial = section.partial.micro if name == "micro" else section.partial.per_entity[name]
        rows.append((name, f"{strict.support:,}", est(strict.precision), est(strict.recall), est(strict.f1),
                     est(partial.recall), est(partial.f1)))
    caption = (f"{section.n_docs:,} documents ({section.split}); {round(section.ci_level * 100)}% bootstrap CIs over "
               f"documents ({section.n_boot} resamples). Strict: seqeval strict IOB2; partial: same type, one word in "
               f"common.{f' {section.truncated_words:,} words past max_length were predicted O.' if section.truncated_words else ''}")
    return [Table("entity-metrics", "Entity precision, recall and F1", caption,
                  ("entity", "gold", "strict precision", "strict recall", "strict F1", "partial recall", "partial F1"),
                  tuple(rows))]


def _parity_tables(record: RunRecord) -> list[Table]:
    section = record.entity_parity
    if section is None:
        return []
    rows = []
    for family in section.families:
        for group in family.groups:
            lowest = group.group == family.lowest_group
            rows.append((family.family, group.group, f"{group.spans:,}", est(group.recall), est(group.exact_recall),
                         est(family.recall_ratio) if lowest else "", est(family.recall_gap) if lowest else ""))
    caption = (f"One {section.entity} span in each of {section.n_docs:,} documents replaced by each name of each group, "
               f"the sentence kept (names: {section.names_source}). Recall with the original names "
               f"{est(section.original_recall)}. Ratio = lowest / highest group recall.")
    return [Table("entity-parity", "Entity recall parity across name groups", caption,
                  ("family", "group", "swapped spans", "recall (partial)", "recall (strict)", "lowest/highest ratio",
                   "gap"), tuple(rows))]


def _pii_tables(record: RunRecord) -> list[Table]:
    section = record.pii_evaluation
    if section is None:
        return []
    rows = [(name, f"{s.support:,}", est(s.recall), est(s.type_recall), est(s.values_gone), est(s.precision))
            for name, s in [*section.per_entity.items(), ("micro", section.micro)]]
    caption = (f"`govaudit scrub --evaluate` on {section.n_docs:,} labelled documents ({section.data.path}), mode "
               f"{section.mode}; {round(section.ci_level * 100)}% bootstrap CIs over documents.")
    return [Table("pii-recall", "PII recall of the scrubber (labelled sample)", caption,
                  ("entity", "labelled", "recall (any type)", "recall (same type)", "values gone", "precision"),
                  tuple(rows))]


def entity_tables(record: RunRecord) -> list[Table]:
    """The tables of whichever of these sections the record has (none for a sequence classifier without them)."""
    return _metrics_tables(record) + _parity_tables(record) + _pii_tables(record)
