"""Name swaps in a token classifier's person spans: entity-recall parity and swaps that change spans.

`name_swaps(classifier, docs, config, terms, max_length)` takes held-out documents with a person span, replaces the
name inside one span per document by each name of each group (the rest of the sentence kept, the other spans
shifted) and predicts the originals and every variant once. From that one pass, `entity_parity_section` reports
per group the share of swapped names still found as a person (partial and strict) and per family the lowest /
highest recall ratio, and `span_flip_section` per group the share of swaps whose predicted entities change (outside
or over the name), both with paired bootstrap CIs over documents. See docs/ner.md.
"""
from ._flips import entity_signature, span_flip_section
from ._section import entity_parity_section
from ._swaps import NameSwaps, name_swaps, swap_name

__all__ = ["NameSwaps", "entity_parity_section", "entity_signature", "name_swaps", "span_flip_section", "swap_name"]
