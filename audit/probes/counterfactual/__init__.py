"""Counterfactual identity-swap tests: does the prediction move when only who someone is changes?

`counterfactual_section(classifier, table, config, target_label, max_length)` swaps gendered words, first names and
identity descriptors in the (scrubbed) evaluation texts, fills neutral business templates with identity terms, and
reports per family the flip rate, the mean/max absolute shift of the target-class probability (bootstrap CIs), which
terms and groups raise the target class, and the worst examples. See docs/probes.md.
"""
from ._section import counterfactual_section, data_pairs, template_pairs
from ._stats import bootstrap_mean
from ._swap import Swapper, Variant, match_case

__all__ = ["counterfactual_section", "Swapper", "Variant", "match_case", "data_pairs", "template_pairs",
           "bootstrap_mean"]
