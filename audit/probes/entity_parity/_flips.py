"""Counterfactual name swaps that change spans: do the predicted entities move when only the name does?

For each swapped document the predicted entities (lenient IOB reading, as `tags_to_spans`) are compared with the
original document's, in word positions of the original:
- outside: entities with no word in the name, words after the name shifted back by the name's change in words;
  changed if the two sets differ (an entity appears, disappears, moves or changes type);
- inside: each entity with a word in the name, as (type, where it starts, where it ends) relative to the name's
  first and last word (before / at / inside, inside / at / after); changed if the two lists differ.
A swap flips if either changed. Swaps of a document whose original or swapped form is longer than model.max_length
are left out (their cut-off words are predicted 'O') and counted.
"""
from __future__ import annotations

import warnings

import numpy as np

from audit.core.spans import tags_to_spans
from audit.record import SpanFlipFamily, SpanFlipGroup, SpanFlipSection

from ._stats import cell_counts, estimate, rate
from ._swaps import NameSwaps

__all__ = ["entity_signature", "span_flip_section"]

Outside = frozenset[tuple[int, int, str]]
Inside = tuple[tuple[str, str, str], ...]


def entity_signature(tags: list[str], first: int, last: int, shift: int = 0) -> tuple[Outside, Inside]:
    """The predicted entities of `tags` around the name in words [first, last): those outside as (first word, end
    word, type) in original positions (words from `last` on moved back by `shift`), those touching the name as
    (type, start, end) relative to the name."""
    outside, inside = set(), []
    for span in tags_to_spans(tags, [(i, i + 1) for i in range(len(tags))]):
        a, b = span.start, span.end
        if b <= first:
            outside.add((a, b, span.label))
        elif a >= last:
            outside.add((a - shift, b - shift, span.label))
        else:
            start = "before" if a < first else "at" if a == first else "inside"
            end = "after" if b > last else "at" if b == last else "inside"
            inside.append((span.label, start, end))
    return frozenset(outside), tuple(inside)


def span_flip_section(swaps: NameSwaps, n_boot: int, level: float, seed: int) -> SpanFlipSection:
    """Per group the share of swaps whose predicted entities change (anywhere, outside, inside the name), the highest
    group and the highest - lowest gap per family, with paired bootstrap CIs over documents."""
    originals: dict[int, tuple[int, tuple[Outside, Inside], bool]] = {}
    for k, (doc, family, _) in enumerate(swaps.keys):
        if family == "":
            first, last = swaps.windows[k]
            originals[doc] = (last - first, entity_signature(swaps.tags[k], first, last), swaps.truncated[k])
    truncated = 0

    def score(k: int) -> tuple[int, int, int, int] | None:
        nonlocal truncated
        doc, family, _ = swaps.keys[k]
        if family == "":
            return None
        width, (outside, inside), cut = originals[doc]
        if cut or swaps.truncated[k]:
            truncated += 1
            return None
        first, last = swaps.windows[k]
        now_outside, now_inside = entity_signature(swaps.tags[k], first, last, (last - first) - width)
        out, within = now_outside != outside, now_inside != inside
        return int(out or within), int(out), int(within), 1

    index, counts, boot = cell_counts(swaps, score, 4)  # any change, outside, inside, swaps scored
    total = counts.sum(axis=0)
    points = [rate(total, c, 3) for c in range(3)]
    samples = [rate(boot, c, 3) for c in range(3)]
    families = []
    for family in swaps.families:
        cols = [index[(family.name, g)] for g in family.groups]
        groups = [SpanFlipGroup(group=g, swaps=int(total[c, 3]), flip_rate=estimate(points[0][c], samples[0][:, c], level),
                                outside_rate=estimate(points[1][c], samples[1][:, c], level),
                                inside_rate=estimate(points[2][c], samples[2][:, c], level),
                                docs_flipped=int((counts[:, c, 0] > 0).sum()))
                  for g, c in zip(family.groups, cols)]
        values = points[0][cols]
        names = list(family.groups)
        if np.isnan(values).all():
            families.append(SpanFlipFamily(family=family.name, groups=groups))
            continue
        high, low = int(np.nanargmax(values)), int(np.nanargmin(values))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gap = np.nanmax(samples[0][:, cols], axis=1) - np.nanmin(samples[0][:, cols], axis=1)
        families.append(SpanFlipFamily(family=family.name, groups=groups, highest_group=names[high],
                                       lowest_group=names[low], highest_flip_rate=groups[high].flip_rate,
                                       flip_gap=estimate(values[high] - values[low], gap, level)))
    return SpanFlipSection(entity=swaps.entity, n_docs=swaps.n_docs, names_source=swaps.sources, families=families,
                           truncated_swaps=truncated, n_boot=n_boot, ci_level=level, seed=seed)
