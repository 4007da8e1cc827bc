"""Word attributions with captum LayerIntegratedGradients and the sensitive-token reliance share.

`attribution_section(classifier, table, config, sensitive_features, target_label)` attributes a sample of the
evaluation texts (stratified by group and predicted outcome) to words, batched and memory-safe, and reports the top
words per predicted class, the share of attribution mass on identity terms (overall and per group, bootstrap CIs),
the examples relying most on identity terms, and the convergence deltas. Attributions are evidence, not proof:
see docs/probes.md. `span_attribution_section` does the same for a token classifier's predicted spans (docs/ner.md).
"""
from ._lig import WordAttribution, attribute_texts, merge_words, normalise_scores
from ._section import attribution_section, reliance_share, sensitive_mask, stratified_sample
from ._span_section import span_attribution_section
from ._spans import SpanAttribution, SpanTarget, attribute_spans

__all__ = ["attribution_section", "attribute_texts", "WordAttribution", "reliance_share", "sensitive_mask",
           "stratified_sample", "merge_words", "normalise_scores", "span_attribution_section", "attribute_spans",
           "SpanTarget", "SpanAttribution"]
