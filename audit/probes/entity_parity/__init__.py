"""Entity-recall parity of a token classifier: are names of some origins or genders missed more often?

`entity_parity_section(classifier, docs, config, families, max_length)` takes held-out documents with a person
span, replaces the name inside one span per document by each name of each group (the rest of the sentence kept,
the other spans shifted), predicts, and reports per group the share of swapped names still found as a person
(partial and strict), and per family the lowest / highest recall ratio with paired bootstrap CIs. See docs/ner.md.
"""
from ._section import entity_parity_section, swap_name

__all__ = ["entity_parity_section", "swap_name"]
