"""Run page: verdict and failing checks first, then the evidence of each stage, lineage and downloads."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from audit.core.text import neutralise
from audit.record import Estimate, FairnessSection, GroupingResult, PolicySection, RunRecord, texts_withheld
from audit.record.signoff import run_owner
from audit.record.status import LABELS, check_level, evidence_level, group_status, impact_check, level_counts, max_flip
from audit.record.store import RunStore
from dashboard.charts import BELOW, EXCLUDED, LL144, chart_height, draw, marked_html, token_heatmap_html
from dashboard.data import LoadedRun, load_run, open_ledger, open_store, score_histogram
from dashboard.screens.evidence import (
    ROUNDED,
    calibration_panel,
    check_target,
    confusion_panel,
    predictions_path,
    threshold_panel,
)
from dashboard.widgets import choose_stored_run, guarded, md, section, short, verdict_banner
from reports import num, pct, pvalue

__all__ = ["render", "checks_frame", "grouping_frame", "comparison_frame", "disparity_tests_frame", "ll144_caption",
           "lineage_rows", "labelled", "TABS", "TAB_KEY", "INTERACTIVE_KEY"]

_STATUS_ORDER = {"fail": 0, "warn": 1, "not run": 2, "pass": 3}
NOT_RUN = "not run in this run"
TAB_KEY = "run_tab"  # session-state key of the open tab
INTERACTIVE_KEY = "fair_interactive"  # session-state key: the Fairness tab's charts drawn with Vega-Lite
TABS = ["Fairness", "Performance", "Counterfactual", "Attribution", "Scrubbing", "Training", "Lineage", "Downloads"]


def render() -> None:
    with guarded():
        store = open_store()
        run_id = choose_stored_run(store)
        if run_id is None:
            return
        loaded = load_run(store, run_id)
        _header(store, loaded)
        record = loaded.record
        target = check_target(record, st.query_params.get("check"))
        withheld = texts_withheld(record)
        drill = target.tab if target else None
        panels = {
            "Fairness": lambda: _fairness(store, loaded, target.grouping if target else None, drill=drill == "Fairness"),
            "Performance": lambda: _performance(store, loaded, drill=drill == "Performance"),
            "Counterfactual": lambda: _counterfactual(record, withheld),
            "Attribution": lambda: _attribution(record, withheld),
            "Scrubbing": lambda: _scrub(record),
            "Training": lambda: _training(record),
            "Lineage": lambda: _lineage(record, loaded),
            "Downloads": lambda: _downloads(store, loaded),
        }
        # lazy tabs: only the open tab's content runs and goes to the browser (switching tabs reruns the page), so
        # the verdict and the first chart are not held up by the other seven tabs' charts, tables and examples
        tabs = st.tabs(TABS, default=drill, key=TAB_KEY, on_change="rerun")
        for name, tab in zip(TABS, tabs):
            if tab.open:
                with tab, section(name.lower()):
                    panels[name]()


def checks_frame(record: RunRecord) -> pd.DataFrame:
    """Policy checks, failing first; `status` is the one level every view shows (not-run checks are 'not run');
    `evidence` links to the run page opened on the check's chart and rows."""
    rows = [{"status": check_level(c).replace("-", " "), "check": c.title, "subject": c.subject or "",
             "severity": c.severity, "measured": _text(c.measured), "threshold": _text(c.threshold),
             "evidence": c.evidence, "source": c.source, "waiver": c.waiver or "", "id": c.id,
             "drill": f"run?run={record.run_id}&check={c.id}"} for c in (record.policy.checks if record.policy else [])]
    frame = pd.DataFrame(rows, columns=["status", "drill", "check", "subject", "measured", "threshold", "severity",
                                        "evidence", "source", "waiver", "id"])
    return frame.sort_values("status", key=lambda s: s.map(_STATUS_ORDER).fillna(9), kind="stable")


_CHECK_COLUMNS = {"drill": st.column_config.LinkColumn("chart and rows", display_text="open evidence"),
                  "evidence": st.column_config.TextColumn("evidence", width="large")}


def _text(value: object) -> str:
    """Numbers as the report prints them (3 decimals); other values as text."""
    return "" if value is None else num(value)


def _header(store: RunStore, loaded: LoadedRun) -> None:
    record = loaded.record
    st.title(f"Run {record.run_id}")
    st.caption(md(f"{record.name} · {record.status} · created {record.created_at} · stages: "
                  f"{', '.join(record.stages) or 'none'}"))
    policy = record.policy
    counts = level_counts(policy)
    verdict_banner(policy.verdict if policy else None, counts["fail"])
    if policy:
        st.caption(f"{counts['fail']} failed · {counts['warn']} warned · {counts['not-run']} not run · "
                   f"{counts['pass']} passed of {len(policy.checks)} checks")
    ledger = open_ledger(store)
    approval = ledger.approval(record.run_id, loaded.subject_sha256, owner=run_owner(record))
    history = ledger.history(record.run_id)
    bound = [e for e in history if e.record_sha256 == loaded.subject_sha256]
    if approval.broken:
        st.error(md(f"Sign-off: {approval.reason}"))
    elif bound:
        last = bound[-1]
        st.caption(md(f"Sign-off: {last.decision} by {last.reviewer} at {last.created_at} (on this evidence) — "
                      f"{'counts as approved' if approval.ok else 'not approved'}: {approval.reason}"))
    elif history:
        st.caption("Sign-off: decisions exist for an older version of this run's evidence; none for this one.")
    else:
        st.caption("Sign-off: none yet.")
    if policy:
        frame = checks_frame(record)
        open_checks = frame[frame["status"].isin(["fail", "warn"])]
        if not open_checks.empty:
            st.subheader("Open checks")
            st.dataframe(open_checks, hide_index=True, width="stretch", column_config=_CHECK_COLUMNS)
        every = st.expander(f"All {len(frame)} policy checks ({md(policy.policy_name)}, evaluated "
                            f"{policy.evaluated_at})", key="all_checks", on_change="rerun")
        if every.open:  # sent only once opened: one table less to draw before the first chart
            with every:
                st.dataframe(frame, hide_index=True, width="stretch", column_config=_CHECK_COLUMNS)
    for notice in record.notices:
        st.warning(md(f"[{notice.stage}] {notice.message}"))


def grouping_frame(grouping: GroupingResult, metric: str, policy: PolicySection | None = None) -> pd.DataFrame:
    """One row per group for `metric` ('impact_ratio' or a key of group.metrics), with CI, the verdict flag and the
    group's four-fifths status (the same one the report shows: audit.record.status.group_status)."""
    rows = []
    for group in grouping.groups:
        est = group.impact_ratio if metric == "impact_ratio" else group.metrics.get(metric)
        est = est or Estimate(note="not computed")
        status = group_status(policy, grouping, group)
        flag = LL144 if status.level == "ll144" else EXCLUDED if status.level == "excluded" else \
            BELOW if status.below else "verdict"
        rows.append({"label": group.group, "value": est.value, "ci_low": est.ci_low if est.ci_low is not None else est.value,
                     "ci_high": est.ci_high if est.ci_high is not None else est.value, "count": group.count,
                     "flag": flag, "note": est.note or "",
                     "four-fifths": LABELS.get(status.level, status.level).lower()})
    return pd.DataFrame(rows, columns=["label", "value", "ci_low", "ci_high", "count", "flag", "note", "four-fifths"])


def comparison_frame(grouping: GroupingResult, fairness: FairnessSection,
                     policy: PolicySection | None = None) -> pd.DataFrame:
    """One row per group and compared rate: the signed difference and ratio against the reference group with CIs,
    the Fisher exact test's p-value and adjusted p-value, and its result (audit.record.status.evidence_level)."""
    rows = []
    for group in grouping.groups:
        status = group_status(policy, grouping, group).level
        for metric, difference in group.differences.items():
            test = group.tests.get(metric)
            level = evidence_level(test, fairness.alpha) if test is not None else "not-tested"
            rows.append({"group": group.group, "status": LABELS.get(status, status.replace("-", " ")).lower(),
                         "rate": metric, "group rate": _est(group.metrics.get(metric)),
                         "difference": _est(difference), "ratio": _est(group.ratios.get(metric)),
                         "Fisher p": pvalue(test.p_value if test else None),
                         "adjusted p": pvalue(test.p_adjusted if test else None),
                         "result": LABELS[level].lower()})
    return pd.DataFrame(rows, columns=["group", "status", "rate", "group rate", "difference", "ratio", "Fisher p",
                                       "adjusted p", "result"])


def disparity_tests_frame(grouping: GroupingResult, fairness: FairnessSection) -> pd.DataFrame:
    """One row per test of 'any disparity' (permutation chi-square) with p-value, adjusted p-value and result."""
    rows = [{"rate": metric, "method": test.method, "groups": test.n_groups, "permutations": test.n_perm,
             "p": pvalue(test.p_value), "adjusted p": pvalue(test.p_adjusted),
             "result": LABELS[evidence_level(test, fairness.alpha)].lower(), "conclusion": test.conclusion}
            for metric, test in grouping.tests.items()]
    return pd.DataFrame(rows, columns=["rate", "method", "groups", "permutations", "p", "adjusted p", "result",
                                       "conclusion"])


def ll144_caption(grouping: GroupingResult, policy: PolicySection | None = None) -> str | None:
    """The groups excluded under LL144's 2% rule, with their counts (always reported), or None."""
    excluded = [g for g in grouping.groups if group_status(policy, grouping, g).level == "ll144"]
    if not excluded:
        return None
    return ("Excluded under NYC LL144's 2% rule (not the reference, no verdict): "
            + "; ".join(f"{g.group} (n={g.count:,}, {pct(g.share)} of rows)" for g in excluded))


def _est(est: Estimate | None) -> str:
    if est is None or est.value is None:
        return f"undefined ({est.note})" if est is not None and est.note else "-"
    ci = f" [{est.ci_low:.3f}, {est.ci_high:.3f}]" if est.ci_low is not None and est.ci_high is not None else ""
    return f"{est.value:.3f}{ci}"


def _fairness(store: RunStore, loaded: LoadedRun, chosen: str | None = None, *, drill: bool = False) -> None:
    """`drill`: opened from a check's evidence link, so the per-group panels start open."""
    fairness = loaded.record.fairness
    if fairness is None:
        st.info(f"Fairness audit: {NOT_RUN} (`govaudit audit`).")
        return
    overall = fairness.overall
    cols = st.columns(4)
    cols[0].metric("rows audited", f"{fairness.n_rows:,}")
    cols[1].metric("favorable outcome", fairness.favorable_outcome)
    if overall is not None:
        cols[2].metric("accuracy", num(overall.accuracy))
        cols[3].metric("macro-F1", num(overall.macro_f1))
    if not fairness.groupings:
        st.info("No sensitive features were audited.")
        return
    names = [g.name for g in fairness.groupings]
    pick = st.columns(2)
    name = pick[0].selectbox("Sensitive feature or intersection", names, key="fair_grouping",
                             index=names.index(chosen) if chosen in names else 0)
    grouping = fairness.groupings[names.index(name)]
    metrics = ["impact_ratio"] + sorted({m for g in grouping.groups for m in g.metrics})
    metric = pick[1].selectbox("Metric", metrics, key="fair_metric")
    policy = loaded.record.policy
    frame = grouping_frame(grouping, metric, policy)
    st.markdown(md(f"{metric} by group of {grouping.name} (outcome {grouping.outcome}; reference group: "
                   f"{grouping.reference_group or '-'}; {fairness.ci_level:.0%} bootstrap CI, {fairness.n_boot} resamples)"))
    plotted = frame.dropna(subset=["value"])
    check = impact_check(policy, grouping)
    minimum = float(check.threshold) if check is not None and isinstance(check.threshold, (int, float)) else 0.8
    # the first chart on the page: a server-rendered image of the same chart until the reviewer asks for the
    # interactive one, so it is on screen before the browser has loaded any Vega code (docs/dashboard.md, Speed)
    interactive = st.session_state.get(INTERACTIVE_KEY, False)
    if not plotted.empty:
        reference = minimum if metric == "impact_ratio" else None
        draw("estimate", plotted, metric, reference, width="stretch", height=chart_height(len(plotted)),
             static=None if interactive else f"{metric} by group of {grouping.name}")
    if metric == "impact_ratio":
        basis = f"check {check.id}" if check else "the record's own four-fifths flag (no policy check)"
        st.caption(md(f"Dashed line: {minimum:.2f}, the policy minimum (0.8, the four-fifths rule of thumb, EEOC "
                      f"Uniform Guidelines, 29 CFR 1607.4(D)); four-fifths status from {basis}"))
    st.toggle("Interactive charts (tooltips, zoom)", key=INTERACTIVE_KEY,
              help="Draws this tab's charts with Vega-Lite in the browser instead of as images of the same charts.")
    st.dataframe(frame.drop(columns=["flag"]).assign(excluded=frame["flag"] == EXCLUDED), hide_index=True,
                 width="stretch", column_config=ROUNDED)
    caption = ll144_caption(grouping, policy)
    if caption:
        st.caption(md(caption))
    comparison = comparison_frame(grouping, fairness, policy)
    if not comparison.empty:
        st.markdown(md(f"**Against the reference group {grouping.reference_group or '-'}** (fixed on the full "
                       f"sample; Fisher exact test of each group against the rest, {fairness.correction}-adjusted "
                       f"over all groups; result at {fairness.alpha:g})"))
        static_table(comparison)
    if grouping.tests:
        st.markdown(md(f"**Tests of any disparity** (permutation chi-square; {fairness.correction}-adjusted over "
                       f"groupings; result at {fairness.alpha:g})"))
        static_table(disparity_tests_frame(grouping, fairness))
    if grouping.disparities:
        st.markdown("**Disparities**")
        static_table(pd.DataFrame([{"measure": k, "estimate": _est(v)} for k, v in grouping.disparities.items()]))
    path = predictions_path(store, loaded.record)
    if path is None:
        st.caption("Predictions artifact not available in the run store: score distribution, confusion matrices and "
                   "threshold what-if not shown.")
    else:
        if len(grouping.features) == 1:
            _score_distribution(path, grouping.features[0], fairness.favorable_outcome, interactive)
        # drawn on demand (or when a check's link opened this grouping): keeps the first load light
        if st.toggle("Confusion matrices and threshold what-if", value=drill, key="fair_drill"):
            confusion_panel(path, grouping)
            threshold_panel(path, grouping, fairness.favorable_outcome, minimum)
    if fairness.mitigation is not None:
        mit = fairness.mitigation
        st.markdown(md(f"Mitigation: {mit.method} ({mit.constraint})"))
        keys = sorted(set(mit.before) | set(mit.after))
        static_table(pd.DataFrame([{"measure": k, "before": _est(mit.before.get(k)), "after": _est(mit.after.get(k))}
                                   for k in keys]))
        if mit.accuracy_cost is not None:
            st.caption(f"accuracy cost: {mit.accuracy_cost:+.3f}")


def _performance(store: RunStore, loaded: LoadedRun, *, drill: bool = False) -> None:
    record = loaded.record
    splits = [(name, m) for name, m in (("test split", record.train.test if record.train else None),
                                         ("validation split", record.train.validation if record.train else None),
                                         ("audit sample", record.fairness.overall if record.fairness else None)) if m]
    if not splits:
        st.info(f"Performance evaluation: {NOT_RUN} (`govaudit train` / `govaudit audit`).")
        return
    static_table(pd.DataFrame([{"split": name, "rows": m.n, "accuracy": m.accuracy, "macro-F1": m.macro_f1,
                                "ECE (15 bins)": m.ece} for name, m in splits]))
    path = predictions_path(store, record)
    if path is not None and record.fairness is not None and st.toggle(
            "Reliability diagram and confusion matrix", value=drill, key="perf_drill"):
        calibration_panel(path, record.fairness)
        confusion_panel(path, None)


def _score_distribution(path: Path, feature: str, favorable: str, interactive: bool = True) -> None:
    info = path.stat()
    hist = score_histogram(str(path), (info.st_size, info.st_mtime_ns), feature, favorable)
    if hist is None:
        st.caption("The predictions artifact has no per-row score for this feature: distribution not shown.")
        return
    title = f"Distribution of P({favorable}) by {feature}"
    st.markdown(md(title))
    draw("histogram", hist, f"P({favorable})", width="stretch", static=None if interactive else title)


def _withheld_note(withheld: str | None) -> None:
    if withheld:
        st.caption(md(f"Example texts withheld: {withheld} (the report's rule, audit.record.texts_withheld)."))


def _counterfactual(record: RunRecord, withheld: str | None) -> None:
    cf = record.counterfactual
    if cf is None:
        st.info(f"Counterfactual identity swaps: {NOT_RUN} (`govaudit audit`).")
        return
    worst = max_flip(cf)
    if worst is not None:
        st.metric(f"largest flip rate (target {cf.target})", pct(worst.rate), help=f"family {worst.family}")
    if cf.coverage:
        st.caption("Texts mentioning an identity term: " + md(", ".join(f"{c.scope} {c.share:.1%}" for c in cf.coverage))
                   + (f"; swaps only inside the model's {cf.max_length}-token window" if cf.max_length else ""))
    for title, families in (("Term-swap families", cf.families), ("Templates", cf.templates)):
        if not families:
            continue
        st.subheader(title)
        frame = pd.DataFrame([{"label": f.family, "value": f.flip_rate.value, "ci_low": f.flip_rate.ci_low,
                               "ci_high": f.flip_rate.ci_high, "count": f.n_swapped, "flag": "verdict"}
                              for f in families])
        plotted = frame.dropna(subset=["value"]).assign(ci_low=lambda d: d["ci_low"].fillna(d["value"]),
                                                        ci_high=lambda d: d["ci_high"].fillna(d["value"]))
        if not plotted.empty:
            draw("estimate", plotted, "flip rate", width="stretch", height=chart_height(len(plotted)))
        st.dataframe(pd.DataFrame([{"family": f.family, "swapped": f"{f.n_swapped}/{f.n_examples}",
                                    "flip rate": _est(f.flip_rate), "mean |shift|": _est(f.mean_abs_shift),
                                    "max |shift|": f.max_abs_shift, "source": f.source} for f in families]),
                     hide_index=True, width="stretch", column_config=ROUNDED)
        for fam in families:
            if not fam.worst_examples and not fam.direction:
                continue
            with st.expander(f"{md(fam.family)}: examples and term effects"):
                for label, effects in (("terms", fam.direction), ("groups", fam.group_effects)):
                    if effects:
                        st.markdown(f"**Within-text contrast of P({md(cf.target)}) per {label}** (toward: the class "
                                    "the term raises most)")
                        st.dataframe(pd.DataFrame([{"term": d.term, "toward": d.toward, "contrast": d.mean_shift,
                                                    "ci_low": d.ci_low, "ci_high": d.ci_high, "texts": d.n,
                                                    "axis": d.axis} for d in effects]), hide_index=True,
                                     column_config=ROUNDED)
                if fam.axes:
                    st.dataframe(pd.DataFrame([{"from axis": a.from_axis, "to": a.to_axis, "pairs": a.n_pairs,
                                                "flip rate": _est(a.flip_rate), "mean |shift|": _est(a.mean_abs_shift)}
                                               for a in fam.axes]), hide_index=True)
                _withheld_note(withheld if fam.worst_examples else None)
                for ex in fam.worst_examples:
                    st.text(neutralise(f"row {ex.row_id}: {ex.pred_before} {ex.prob_before:.3f} -> {ex.pred_after} "
                                       f"{ex.prob_after:.3f}" + ("" if withheld else f"  ({'; '.join(ex.swaps)})")))
                    if not withheld:
                        st.html(marked_html(ex.original, ex.original_spans) + marked_html(ex.swapped, ex.swapped_spans))


def _attribution(record: RunRecord, withheld: str | None) -> None:
    attr = record.attribution
    if attr is None:
        st.info(f"Attributions: {NOT_RUN} (`govaudit audit`).")
        return
    cols = st.columns(3)
    cols[0].metric("sensitive-token reliance share", _est(attr.reliance_share))
    cols[1].metric("examples", attr.n_examples)
    cols[2].metric("mean completeness gap", f"{attr.mean_relative_delta:.3f}",
                   help=f"{attr.method}, {attr.n_steps} steps ({attr.precision}), baseline {attr.baseline}; "
                        f"{attr.large_delta_count} examples with a large gap")
    if attr.reliance_by_group:
        st.markdown("**Reliance share by group**")
        static_table(pd.DataFrame([{"feature": f, "group": g, "reliance share": v}
                                   for f, groups in attr.reliance_by_group.items() for g, v in groups.items()]))
    if attr.top_words:
        st.markdown("**Most influential words per class**")
        static_table(pd.DataFrame([{"class": c, "word": w, "attribution": s}
                                   for c, words in attr.top_words.items() for w, s in words]))
    examples = [("highest reliance", e) for e in attr.top_reliance_examples] + \
               [("highlighted", e) for e in attr.highlighted_examples]
    if examples and withheld:
        _withheld_note(withheld)
        examples = []
    if examples:
        st.markdown("**Token heat maps** (blue: towards the predicted class, red: against it; as in the report)")
    for kind, ex in examples:
        st.caption(md(f"{kind} · row {ex.row_id} · predicted {ex.predicted} · reliance share {ex.reliance_share:.1%}"))
        st.html(token_heatmap_html(ex.words, ex.scores))


def _scrub(record: RunRecord) -> None:
    scrub = record.scrub
    if scrub is None:
        st.info(f"PII scrubbing: {NOT_RUN} (`govaudit scrub`).")
        return
    cols = st.columns(4)
    cols[0].metric("rows", f"{scrub.rows_total:,}")
    cols[1].metric("rows changed", f"{scrub.share_rows_touched:.1%}")
    cols[2].metric("mode", scrub.mode)
    residual = scrub.residual
    cols[3].metric("residual PII check", "not run" if residual is None else ("passed" if residual.passed else "FAILED"))
    counts = pd.DataFrame([{"column": col, "entity": ent, "count": n}
                           for col, ents in scrub.counts.items() for ent, n in ents.items()])
    if not counts.empty:
        static_table(counts)
    if residual is not None and residual.found:
        st.error(md(f"entities still found after scrubbing: {residual.found}"))
    st.caption(md(f"operator {scrub.operator}; entities {', '.join(scrub.entities)}; threshold "
                  f"{scrub.default_threshold}; engine {scrub.engine}"))
    if scrub.detector is not None:
        st.caption(md(f"detector model {scrub.detector.model_dir}: SHA-256 {scrub.detector.model_sha256} over "
                      f"{len(scrub.detector.files)} files; reports {', '.join(scrub.detector.entities)} at score >= "
                      f"{scrub.detector.min_score}"))


def _training(record: RunRecord) -> None:
    _train(record)
    _entity_tables(record)


def _train(record: RunRecord) -> None:
    train = record.train
    if train is None:
        st.info(f"Training: {NOT_RUN} (`govaudit train`).")
        return
    if train.waiver is not None:
        st.error(md(f"Trained on unscrubbed data by waiver: {train.waiver.reason} ({train.waiver.by}, {train.waiver.at})"))
    cols = st.columns(4)
    cols[0].metric("base model", train.base_model)
    cols[1].metric("test macro-F1", f"{train.test.macro_f1:.3f}" if train.test else "-")
    cols[2].metric("steps", train.steps)
    cols[3].metric("wall time", f"{train.wall_time_s:.0f} s")
    if train.curves:
        draw("curve", pd.DataFrame([c.model_dump() for c in train.curves]), width="stretch")
    cols = st.columns(3)
    with cols[0]:
        st.markdown("**Hyperparameters**")
        static_table(labelled({**train.hyperparameters, "seed": train.seed}, "hyperparameter"))
    with cols[1]:
        st.markdown("**Split sizes**")
        static_table(labelled(train.split_sizes, "split"))
    with cols[2]:
        st.markdown("**Hardware**")
        static_table(labelled(train.hardware, "resource"))


def static_table(frame: pd.DataFrame) -> None:
    """A small table as static HTML (much lighter in the browser than an interactive grid): floats as the report
    prints them, and every cell escaped with `md`, since st.table renders Markdown."""
    st.table(frame.map(lambda v: md(num(v) if isinstance(v, (int, float)) else v)), hide_index=True)


def labelled(values: dict[str, object], key: str) -> pd.DataFrame:
    """A mapping as a two-column table (`key`, value), every value as text: no raw `{...}`."""
    return pd.DataFrame([{key: str(k).replace("_", " "), "value": _text(v) if isinstance(v, float) else str(v)}
                         for k, v in values.items()], columns=[key, "value"])


def lineage_rows(record: RunRecord) -> list[dict[str, object]]:
    """Each data file once (same path and hashes = same file), with every role it played."""
    files = list(record.inputs) + (list(record.train.data) if record.train else [])
    if record.scrub is not None:
        files += [record.scrub.input, record.scrub.output]
    merged: dict[tuple[str, str, str], dict[str, object]] = {}
    for f in files:
        key = (f.path, f.file_sha256, f.table_sha256)
        if key in merged:
            roles = merged[key]["role"]
            if f.role not in str(roles).split(", "):
                merged[key]["role"] = f"{roles}, {f.role}"
            continue
        merged[key] = {"role": f.role, "path": f.path, "rows": f.rows, "file sha256": short(f.file_sha256),
                       "table sha256": short(f.table_sha256)}
    return list(merged.values())


def _entity_tables(record: RunRecord) -> None:
    """Token-classifier metrics, entity-recall parity and the PII-recall certificate (the report's tables)."""
    from reports import entity_tables

    for table in entity_tables(record):
        st.subheader(table.title)
        st.dataframe(pd.DataFrame(list(table.rows), columns=list(table.headers)), hide_index=True)
        st.caption(md(table.caption))


def _lineage(record: RunRecord, loaded: LoadedRun) -> None:
    st.markdown(md(f"record file SHA-256: {loaded.file_sha256}"))
    st.markdown(md(f"evidence SHA-256 (what a sign-off binds to): {loaded.subject_sha256}"))
    st.markdown(md(f"config SHA-256: {record.config_sha256 or '-'} · parent run: {record.parent_run_id or '-'}"))
    rows = lineage_rows(record)
    if rows:
        static_table(pd.DataFrame(rows))
    if record.train is not None:
        st.markdown(md(f"model artifact: {record.train.model_artifact} · scrub run: {record.train.scrub_run_id or '-'}"))
        if record.train.base_model_sha256:
            static_table(pd.DataFrame([{"base model file": k, "sha256": v}
                                       for k, v in record.train.base_model_sha256.items()]))
    static_table(pd.DataFrame([{"component": k, "version": v} for k, v in
                               {"govaudit": record.tool.govaudit, "python": record.tool.python,
                                **record.tool.libraries}.items()]))
    if record.model_card:
        st.markdown("**Model card**")
        static_table(labelled(record.model_card, "field"))


def _downloads(store: RunStore, loaded: LoadedRun) -> None:
    record = loaded.record
    st.download_button("Download run record (JSON)", loaded.raw, file_name=f"{record.run_id}.json",
                       mime="application/json")
    try:
        from reports import render_html
    except ImportError:
        st.caption("HTML report: the reports package is not installed; download the JSON record instead.")
    else:
        ledger = open_ledger(store)

        def report() -> str:  # rendered only when the button is clicked
            return render_html(record, loaded.file_sha256, signoffs=ledger.history(record.run_id),
                               ledger_problems=ledger.verify().problems)

        st.download_button("Download HTML report", report, file_name=f"{record.run_id}.html", mime="text/html")
    st.caption(md(f"record SHA-256 {loaded.file_sha256}"))
