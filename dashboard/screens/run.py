"""Run page: verdict and failing checks first, then the evidence of each stage, lineage and downloads."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.record import Estimate, GroupingResult, RunRecord
from audit.record.store import RunStore
from dashboard.charts import chart_height, curve_chart, estimate_chart, histogram_chart, token_heatmap_html
from dashboard.data import LoadedRun, load_run, open_ledger, open_store, score_histogram
from dashboard.widgets import choose_stored_run, guarded, md, section, short, verdict_banner

__all__ = ["render", "checks_frame", "grouping_frame"]

_STATUS_ORDER = {"fail": 0, "warn": 1, "not_run": 2, "pass": 3}
NOT_RUN = "not run in this run"


def render() -> None:
    with guarded():
        store = open_store()
        run_id = choose_stored_run(store)
        if run_id is None:
            return
        loaded = load_run(store, run_id)
        _header(store, loaded)
        tabs = st.tabs(["Fairness", "Counterfactual", "Attribution", "Scrubbing", "Training", "Lineage", "Downloads"])
        record = loaded.record
        with tabs[0], section("fairness"):
            _fairness(store, loaded)
        with tabs[1], section("counterfactual"):
            _counterfactual(record)
        with tabs[2], section("attribution"):
            _attribution(record)
        with tabs[3], section("scrubbing"):
            _scrub(record)
        with tabs[4], section("training"):
            _train(record)
            _entity_tables(record)
        with tabs[5], section("lineage"):
            _lineage(record, loaded)
        with tabs[6], section("downloads"):
            _downloads(store, loaded)


def checks_frame(record: RunRecord) -> pd.DataFrame:
    """Policy checks, failing first."""
    rows = [{"status": c.status, "check": c.title, "severity": c.severity, "measured": _text(c.measured),
             "threshold": _text(c.threshold), "evidence": c.evidence, "source": c.source, "waiver": c.waiver or "",
             "id": c.id} for c in (record.policy.checks if record.policy else [])]
    frame = pd.DataFrame(rows, columns=["status", "check", "severity", "measured", "threshold", "evidence", "source",
                                        "waiver", "id"])
    return frame.sort_values("status", key=lambda s: s.map(_STATUS_ORDER).fillna(9), kind="stable")


def _text(value: object) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _header(store: RunStore, loaded: LoadedRun) -> None:
    record = loaded.record
    st.title(f"Run {record.run_id}")
    st.caption(md(f"{record.name} · {record.status} · created {record.created_at} · stages: "
                  f"{', '.join(record.stages) or 'none'}"))
    policy = record.policy
    failing = sum(c.status == "fail" for c in policy.checks) if policy else 0
    verdict_banner(policy.verdict if policy else None, failing)
    history = open_ledger(store).history(record.run_id)
    bound = [e for e in history if e.record_sha256 == loaded.subject_sha256]
    if bound:
        last = bound[-1]
        st.caption(md(f"Sign-off: {last.decision} by {last.reviewer} at {last.created_at} (on this evidence)"))
    elif history:
        st.caption("Sign-off: decisions exist for an older version of this run's evidence; none for this one.")
    else:
        st.caption("Sign-off: none yet.")
    if policy:
        frame = checks_frame(record)
        open_checks = frame[frame["status"].isin(["fail", "warn"])]
        if not open_checks.empty:
            st.subheader("Open checks")
            st.dataframe(open_checks, hide_index=True, width="stretch")
        with st.expander(f"All {len(frame)} policy checks ({md(policy.policy_name)}, evaluated {policy.evaluated_at})"):
            st.dataframe(frame, hide_index=True, width="stretch")
    for notice in record.notices:
        st.warning(md(f"[{notice.stage}] {notice.message}"))


def grouping_frame(grouping: GroupingResult, metric: str) -> pd.DataFrame:
    """One row per group for `metric` ('impact_ratio' or a key of group.metrics), with CI and the verdict flag."""
    rows = []
    for group in grouping.groups:
        est = group.impact_ratio if metric == "impact_ratio" else group.metrics.get(metric)
        est = est or Estimate(note="not computed")
        excluded = group.small or getattr(group, "unknown", False)
        rows.append({"label": group.group, "value": est.value, "ci_low": est.ci_low if est.ci_low is not None else est.value,
                     "ci_high": est.ci_high if est.ci_high is not None else est.value, "count": group.count,
                     "flag": "small / unknown (no verdict)" if excluded else "verdict", "note": est.note or ""})
    return pd.DataFrame(rows, columns=["label", "value", "ci_low", "ci_high", "count", "flag", "note"])


def _est(est: Estimate | None) -> str:
    if est is None or est.value is None:
        return f"undefined ({est.note})" if est is not None and est.note else "-"
    ci = f" [{est.ci_low:.3f}, {est.ci_high:.3f}]" if est.ci_low is not None and est.ci_high is not None else ""
    return f"{est.value:.3f}{ci}"


def _fairness(store: RunStore, loaded: LoadedRun) -> None:
    fairness = loaded.record.fairness
    if fairness is None:
        st.info(f"Fairness audit: {NOT_RUN} (`govaudit audit`).")
        return
    overall = fairness.overall
    cols = st.columns(4)
    cols[0].metric("rows audited", f"{fairness.n_rows:,}")
    cols[1].metric("favorable outcome", fairness.favorable_outcome)
    if overall is not None:
        cols[2].metric("accuracy", f"{overall.accuracy:.3f}")
        cols[3].metric("macro-F1", f"{overall.macro_f1:.3f}")
    if not fairness.groupings:
        st.info("No sensitive features were audited.")
        return
    names = [g.name for g in fairness.groupings]
    pick = st.columns(2)
    name = pick[0].selectbox("Sensitive feature or intersection", names, key="fair_grouping")
    grouping = fairness.groupings[names.index(name)]
    metrics = ["impact_ratio"] + sorted({m for g in grouping.groups for m in g.metrics})
    metric = pick[1].selectbox("Metric", metrics, key="fair_metric")
    frame = grouping_frame(grouping, metric)
    st.markdown(md(f"{metric} by group of {grouping.name} (outcome {grouping.outcome}; reference group: "
                   f"{grouping.reference_group or '-'}; {fairness.ci_level:.0%} bootstrap CI, {fairness.n_boot} resamples)"))
    plotted = frame.dropna(subset=["value"])
    if not plotted.empty:
        reference = 0.8 if metric == "impact_ratio" else None
        st.altair_chart(estimate_chart(plotted, metric, reference), width="stretch", height=chart_height(len(plotted)))
    if metric == "impact_ratio":
        st.caption("Dashed line: 0.8, the four-fifths rule of thumb (EEOC Uniform Guidelines, 29 CFR 1607.4(D)).")
    st.dataframe(frame.drop(columns=["flag"]).assign(excluded=frame["flag"] != "verdict"), hide_index=True,
                 width="stretch")
    if grouping.disparities:
        st.markdown("**Disparities**")
        st.dataframe(pd.DataFrame([{"measure": k, "estimate": _est(v)} for k, v in grouping.disparities.items()]),
                     hide_index=True)
    features = grouping.features
    if len(features) == 1 and fairness.predictions_artifact:
        _score_distribution(store, loaded, features[0], fairness.favorable_outcome)
    if fairness.mitigation is not None:
        mit = fairness.mitigation
        st.markdown(md(f"Mitigation: {mit.method} ({mit.constraint})"))
        keys = sorted(set(mit.before) | set(mit.after))
        st.dataframe(pd.DataFrame([{"measure": k, "before": _est(mit.before.get(k)), "after": _est(mit.after.get(k))}
                                   for k in keys]), hide_index=True)
        if mit.accuracy_cost is not None:
            st.caption(f"accuracy cost: {mit.accuracy_cost:+.3f}")


def _score_distribution(store: RunStore, loaded: LoadedRun, feature: str, favorable: str) -> None:
    path = store.artifact(loaded.record.run_id, loaded.record.fairness.predictions_artifact)
    if not path.is_file() or path.suffix != ".parquet":
        st.caption("Predictions artifact not available in the run store: score distribution not shown.")
        return
    info = path.stat()
    hist = score_histogram(str(path), (info.st_size, info.st_mtime_ns), feature, favorable)
    if hist is None:
        st.caption("The predictions artifact has no per-row score for this feature: distribution not shown.")
        return
    st.markdown(md(f"Distribution of P({favorable}) by {feature}"))
    st.altair_chart(histogram_chart(hist, f"P({favorable})"), width="stretch")


def _counterfactual(record: RunRecord) -> None:
    cf = record.counterfactual
    if cf is None:
        st.info(f"Counterfactual identity swaps: {NOT_RUN} (`govaudit audit`).")
        return
    if cf.max_flip_rate is not None:
        st.metric(f"largest flip rate (target {cf.target})", f"{cf.max_flip_rate:.1%}")
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
            st.altair_chart(estimate_chart(plotted, "flip rate"), width="stretch", height=chart_height(len(plotted)))
        st.dataframe(pd.DataFrame([{"family": f.family, "swapped": f"{f.n_swapped}/{f.n_examples}",
                                    "flip rate": _est(f.flip_rate), "mean |shift|": _est(f.mean_abs_shift),
                                    "max |shift|": f.max_abs_shift, "source": f.source} for f in families]),
                     hide_index=True, width="stretch")
        for fam in families:
            if not fam.worst_examples and not fam.direction:
                continue
            with st.expander(f"{md(fam.family)}: examples and term effects"):
                if fam.direction:
                    st.dataframe(pd.DataFrame([d.model_dump() for d in fam.direction]), hide_index=True)
                for ex in fam.worst_examples:
                    st.text(f"row {ex.row_id}: {ex.pred_before} {ex.prob_before:.3f} -> {ex.pred_after} "
                            f"{ex.prob_after:.3f}  ({'; '.join(ex.swaps)})")
                    st.text(f"  original: {ex.original}\n  swapped:  {ex.swapped}")


def _attribution(record: RunRecord) -> None:
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
        st.dataframe(pd.DataFrame([{"feature": f, "group": g, "reliance share": v}
                                   for f, groups in attr.reliance_by_group.items() for g, v in groups.items()]),
                     hide_index=True)
    if attr.top_words:
        st.markdown("**Most influential words per class**")
        st.dataframe(pd.DataFrame([{"class": c, "word": w, "attribution": s}
                                   for c, words in attr.top_words.items() for w, s in words]), hide_index=True)
    examples = [("highest reliance", e) for e in attr.top_reliance_examples] + \
               [("highlighted", e) for e in attr.highlighted_examples]
    if examples:
        st.markdown("**Token heat maps** (red: towards the prediction, blue: against)")
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
        st.dataframe(counts, hide_index=True)
    if residual is not None and residual.found:
        st.error(md(f"entities still found after scrubbing: {residual.found}"))
    st.caption(md(f"operator {scrub.operator}; entities {', '.join(scrub.entities)}; threshold "
                  f"{scrub.default_threshold}; engine {scrub.engine}"))


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
        st.altair_chart(curve_chart(pd.DataFrame([c.model_dump() for c in train.curves])), width="stretch")
    st.json({"hyperparameters": train.hyperparameters, "seed": train.seed, "split_sizes": train.split_sizes,
             "hardware": train.hardware}, expanded=False)


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
    data = list(record.inputs) + (list(record.train.data) if record.train else [])
    if record.scrub is not None:
        data += [record.scrub.input, record.scrub.output]
    if data:
        st.dataframe(pd.DataFrame([{"role": f.role, "path": f.path, "rows": f.rows, "file sha256": short(f.file_sha256),
                                    "table sha256": short(f.table_sha256)} for f in data]), hide_index=True,
                     width="stretch")
    if record.train is not None:
        st.markdown(md(f"model artifact: {record.train.model_artifact} · scrub run: {record.train.scrub_run_id or '-'}"))
        if record.train.base_model_sha256:
            st.dataframe(pd.DataFrame([{"base model file": k, "sha256": v}
                                       for k, v in record.train.base_model_sha256.items()]), hide_index=True)
    st.dataframe(pd.DataFrame([{"component": k, "version": v} for k, v in
                               {"govaudit": record.tool.govaudit, "python": record.tool.python,
                                **record.tool.libraries}.items()]), hide_index=True)
    if record.model_card:
        st.json(record.model_card, expanded=False)


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
