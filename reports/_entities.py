"""Tables of the token-classifier sections (entity metrics, entity-recall parity, span flips, span attributions) and
the PII-recall certificate.

One builder for the HTML report, the Markdown report and the dashboard, so the three show the same numbers; the gate
column is the policy result's level from `audit.record.status` (blank when the gate has not judged it).
"""
from __future__ import annotations

from dataclasses import dataclass

from audit.record import RunRecord
from audit.record.status import LABELS, result_level

from ._format import est, num

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
        gate = _gate(record, f"entity_recall_parity:{family.family}")
        for group in family.groups:
            lowest = group.group == family.lowest_group
            rows.append((family.family, group.group, f"{group.spans:,}", est(group.recall), est(group.exact_recall),
                         est(family.recall_ratio) if lowest else "", est(family.recall_gap) if lowest else "",
                         gate if lowest else ""))
    caption = (f"One {section.entity} span in each of {section.n_docs:,} documents replaced by each name of each group, "
               f"the sentence kept (names: {section.names_source}). Recall with the original names "
               f"{est(section.original_recall)}. Ratio = lowest / highest group recall.")
    return [Table("entity-parity", "Entity recall parity across name groups", caption,
                  ("family", "group", "swapped spans", "recall (partial)", "recall (strict)", "lowest/highest ratio",
                   "gap", "gate"), tuple(rows))]


def _gate(record: RunRecord, check_id: str) -> str:
    level = result_level(record.policy, check_id)
    return LABELS[level] if level else ""


def _flip_tables(record: RunRecord) -> list[Table]:
    section = record.span_flips
    if section is None:
        return []
    rows = []
    for family in section.families:
        gate = _gate(record, f"span_flip_rate:{family.family}")
        for group in family.groups:
            highest = group.group == family.highest_group
            rows.append((family.family, group.group, f"{group.swaps:,}", est(group.flip_rate), est(group.outside_rate),
                         est(group.inside_rate), f"{group.docs_flipped:,}", est(family.flip_gap) if highest else "",
                         gate if highest else ""))
    truncated = f" {section.truncated_swaps:,} swaps of documents past max_length left out." if section.truncated_swaps else ""
    caption = (f"The same name swaps as the parity table ({section.n_docs:,} documents, names: {section.names_source}); "
               f"a swap flips if the predicted entities change outside the name (appear, vanish, move, change type) or "
               f"over it (type or boundaries relative to the name). Gap = highest - lowest group flip rate; "
               f"{round(section.ci_level * 100)}% paired bootstrap CIs over documents ({section.n_boot} resamples)."
               f"{truncated}")
    return [Table("span-flips", "Name swaps that change predicted spans", caption,
                  ("family", "group", "swaps", "flip rate", "outside the name", "over the name", "documents flipped",
                   "gap", "gate"), tuple(rows))]


def _words(words: list[tuple[str, float]]) -> str:
    return ", ".join(f"{w} {num(s)}" for w, s in words) or "–"


def _span_attribution_tables(record: RunRecord) -> list[Table]:
    section = record.span_attribution
    if section is None:
        return []
    rows = [(t.label, f"{t.n_spans:,}", est(t.inside_share), est(t.name_share) if t.name_share else "n/a",
             _words(t.top_context_words), "") for t in section.per_type]
    rows.append(("all (weighted)", f"{section.n_spans:,}", est(section.inside_share), est(section.name_share), "",
                 _gate(record, "span_name_reliance")))
    caption = (f"{section.method} (captum), baseline {section.baseline}, {section.n_steps} steps ({section.precision}): "
               f"the predicted tags' logits of {section.n_spans:,} of {section.spans_predicted:,} predicted spans "
               f"(seeded, balanced over types; {section.n_docs:,} documents), summed over the span's words' first "
               f"sub-tokens, attributed to the words. Inside = share of absolute attribution on the span's own words; "
               f"name share = share on {section.person_label} words of the same document. Context words never include "
               f"words of an entity, words with digits, or words seen in fewer than 2 documents. Mean relative "
               f"convergence delta {num(section.mean_relative_delta)}, {section.large_delta_count:,} above the warning "
               f"limit.{f' {section.note}' if section.note else ''}")
    return [Table("span-attribution", "Attribution per predicted span", caption,
                  ("entity", "spans", "inside share", "name share", "top context words (mean attribution)", "gate"),
                  tuple(rows))]


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
    return (_metrics_tables(record) + _parity_tables(record) + _flip_tables(record) + _span_attribution_tables(record)
            + _pii_tables(record))
