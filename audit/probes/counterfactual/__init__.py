"""Counterfactual identity-swap tests: does the prediction move when only who someone is changes?

`counterfactual_section(classifier, table, config, target_label, max_length)` swaps gendered words, first names and
identity terms in the (scrubbed) evaluation texts, inside the model's `max_length` window, fills neutral business
templates with identity terms, and reports per family (and for the identity pool: per axis and across axes) the flip
rate, the mean/max absolute shift of the target-class probability (bootstrap CIs), within-text term contrasts (which
terms push toward which class), the share of texts mentioning identity terms, and the worst examples (flips and
large shifts). See docs/probes.md.
"""
from ._section import PairSet, counterfactual_section, data_pairs, swapper_for, template_pairs
from ._stats import bootstrap_mean
from ._swap import Swapper, Variant, article_for, match_case, pool_family

__all__ = ["counterfactual_section", "Swapper", "Variant", "match_case", "article_for", "pool_family", "data_pairs",
           "template_pairs", "PairSet", "swapper_for", "bootstrap_mean"]
