"""Run-record sections of token classifiers and the PII certificate, for report / dashboard / policy tests."""
from __future__ import annotations

from audit.record import (
    DataFingerprint,
    EntityMetrics,
    EntityParitySection,
    EntityScore,
    EntitySection,
    Estimate,
    NameFamilyParity,
    NameGroupRecall,
    PiiEntityScore,
    PiiEvaluation,
    SpanAttributionSection,
    SpanFlipFamily,
    SpanFlipGroup,
    SpanFlipSection,
    SpanTypeAttribution,
)


def score(f1: float, support: int = 50) -> EntityScore:
    est = Estimate(value=f1, ci_low=f1 - 0.05, ci_high=min(1.0, f1 + 0.05))
    return EntityScore(support=support, predicted=support, precision=est, recall=est, f1=est)


def entities(micro: float = 0.85, per: dict[str, float] | None = None) -> EntitySection:
    per = per or {"PER": 0.9, "LOC": 0.7}
    metrics = EntityMetrics(scheme="strict", micro=score(micro), per_entity={k: score(v) for k, v in per.items()})
    return EntitySection(split="test", n_docs=40, n_boot=100, ci_level=0.95, seed=1, strict=metrics,
                         partial=metrics.model_copy(update={"scheme": "partial"}))


def parity(ratio: float = 0.6) -> EntityParitySection:
    groups = [NameGroupRecall(group=g, names=7, spans=70, recall=Estimate(value=v), exact_recall=Estimate(value=v))
              for g, v in (("male", 0.95), ("female", round(0.95 * ratio, 4)))]
    family = NameFamilyParity(family="names_gender", groups=groups, lowest_group="female", highest_group="male",
                              recall_ratio=Estimate(value=ratio, ci_low=ratio - 0.1, ci_high=min(1, ratio + 0.1)),
                              recall_gap=Estimate(value=0.95 - 0.95 * ratio))
    return EntityParitySection(entity="PER", n_docs=10, names_source="WEAT", families=[family],
                               original_recall=Estimate(value=0.97))


def pii(recalls: dict[str, tuple[float, int]] | None = None) -> PiiEvaluation:
    recalls = recalls or {"EMAIL_ADDRESS": (0.99, 40), "PHONE_NUMBER": (0.7, 40)}
    fp = DataFingerprint(role="labelled", path="l.jsonl", format="jsonl", file_sha256="a" * 64, table_sha256="b" * 64,
                         rows=10, columns=["text", "spans"])
    per = {k: PiiEntityScore(support=n, detected=n, recall=Estimate(value=r, ci_low=r - 0.02, ci_high=r),
                             type_recall=Estimate(value=r), values_gone=Estimate(value=r), precision=Estimate(value=0.9))
           for k, (r, n) in recalls.items()}
    return PiiEvaluation(data=fp, n_docs=10, mode="full", per_entity=per, micro=next(iter(per.values())))


def flips(female: float = 0.3) -> SpanFlipSection:
    def rate(v: float) -> Estimate:
        return Estimate(value=v, ci_low=max(0.0, v - 0.05), ci_high=min(1.0, v + 0.05))

    groups = [SpanFlipGroup(group=g, swaps=70, flip_rate=rate(v), outside_rate=rate(v / 2), inside_rate=rate(v / 2),
                            docs_flipped=round(10 * v)) for g, v in (("male", 0.02), ("female", female))]
    family = SpanFlipFamily(family="names_gender", groups=groups, highest_group="female", lowest_group="male",
                            highest_flip_rate=groups[1].flip_rate, flip_gap=rate(female - 0.02))
    return SpanFlipSection(entity="PER", n_docs=10, names_source="WEAT", families=[family], truncated_swaps=2, n_boot=50)


def span_attribution(name_share: float = 0.3) -> SpanAttributionSection:
    share = Estimate(value=name_share, ci_low=name_share - 0.05, ci_high=name_share + 0.05)
    per_type = [SpanTypeAttribution(label="LOC", n_spans=20, inside_share=Estimate(value=0.5), name_share=share,
                                    top_context_words=[("moved", 0.1), ("near", 0.05)]),
                SpanTypeAttribution(label="PER", n_spans=20, inside_share=Estimate(value=0.8))]
    return SpanAttributionSection(n_steps=16, person_label="PER", spans_predicted=90, n_spans=40, n_docs=30,
                                  per_type=per_type, inside_share=Estimate(value=0.65), name_share=share)
