"""Markdown rendering (PR comments) of the report and comparison content. Every data value is escaped:
HTML special characters become entities and Markdown syntax characters are backslash-escaped."""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from audit.core.text import neutralise
from audit.record import RunRecord
from audit.record.status import group_status

from ._format import est, est_pct, num, signed

__all__ = ["md", "report_markdown", "comparison_markdown"]

_MD_SPECIAL = "\\`*_[]|#~!<>"
_FOUR_FIFTHS_TEXT = {"not-run": "–", "ll144": "excluded: under 2% (LL144)"}


def md(value: Any) -> str:
    """One table-safe line of text: no raw HTML, no links, no pipes, no line breaks."""
    text = neutralise(value) if isinstance(value, str) else num(value)
    text = "".join("\\" + ch if ch in _MD_SPECIAL and ch not in "<>" else ch for ch in text)
    text = html.escape(text, quote=False).replace("://", ":\\/\\/")  # no autolinks
    return " ".join(text.split())


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return out + [""]


def _not_run(what: str) -> list[str]:
    return [f"_Not run: {md(what)}._", ""]


def report_markdown(r: dict[str, Any], rec: RunRecord) -> str:
    run, verdict = r["run"], r["verdict"]
    lines = [f"## govaudit report: {md(run['name'] or run['run_id'])}", "",
             f"Run `{md(run['run_id'])}` · record SHA-256 `{md(run['record_sha256'])}` · status {md(run['status'])}", "",
             f"### Verdict: **{md(verdict['status']).upper()}**", ""]
    if verdict["policy"]:
        c = verdict["counts"]
        lines += [f"Policy {md(verdict['policy'])}: {c['fail']} failed, {c['warn']} warned, {c['not-run']} not run, "
                  f"{c['pass']} passed of {verdict['total']} checks.", "", md(r["summary"]["signoff"]["text"]), ""]
        if verdict.get("rationale"):
            lines += [f"Use case {md(verdict['use_case'])}: {md(verdict['rationale'])}", ""]
    if r["sections_not_run"]:
        lines += [f"Not run: {md(', '.join(r['sections_not_run']))}.", ""]
    summary = r["summary"]  # failed, then warned, then not tested, then the rest: the HTML summary's order
    lines += [f"- **{md(f['label'])}** ({md(f['section'])}) {md(f['text'])}"
              for f in summary["open"] + summary["not_tested"] + summary["other"]] + [""]

    lines += ["### Performance", ""]
    metrics = [(name, m) for name, m in (("test", rec.train.test if rec.train else None),
                                          ("validation", rec.train.validation if rec.train else None),
                                          ("audit sample", rec.fairness.overall if rec.fairness else None)) if m]
    lines += _table(["split", "n", "accuracy", "macro-F1", "ECE"],
                    [(name, m.n, num(m.accuracy), num(m.macro_f1), num(m.ece)) for name, m in metrics]) \
        if metrics else _not_run("performance evaluation")

    lines += ["### Fairness", ""]
    if rec.fairness is None:
        lines += _not_run("fairness audit")
    else:
        fa = rec.fairness
        lines += [f"Outcome {md(fa.favorable_outcome)}, {fa.n_rows:,} rows, {round(fa.ci_level * 100)}% CIs "
                  f"({fa.n_boot} bootstrap resamples). Impact ratio threshold 0.8 (EEOC four-fifths).", ""]
        for g in fa.groupings:
            lines += [f"**{md(g.name)}** (reference {md(g.reference_group or '–')})", ""]
            lines += _table(["group", "n", "selection rate", "impact ratio", "four-fifths", "flags"], [
                (grp.group, grp.count, est(grp.metrics.get("selection_rate")), est(grp.impact_ratio),
                 _FOUR_FIFTHS_TEXT.get(level := group_status(rec.policy, g, grp).level, level),
                 "; ".join(x for x, on in (("small group", grp.small), ("unknown category", getattr(grp, "unknown", False)),
                                           ("one decision flips verdict", grp.one_person_flip)) if on))
                for grp in g.groups])
        if fa.unknown_counts:
            lines += ["Unknown category counts: " + md(", ".join(f"{k} {v:,}" for k, v in fa.unknown_counts.items())), ""]

    lines += ["### Counterfactual identity swaps", ""]
    if rec.counterfactual is None:
        lines += _not_run("counterfactual identity swaps")
    else:
        cf = rec.counterfactual
        fams = cf.families + cf.templates
        lines += _table(["family", "swapped", "flip rate", "mean abs shift", "max abs shift"],
                        [(f.family, f.n_swapped, est_pct(f.flip_rate), est(f.mean_abs_shift), num(f.max_abs_shift)) for f in fams])
        if r["texts_shown"]:
            lines += _table(["family", "original (scrubbed)", "swapped", f"P({cf.target}) before → after"],
                            [(f.family, e.original, e.swapped, f"{num(e.prob_before)} → {num(e.prob_after)}")
                             for f in fams for e in f.worst_examples])
        else:
            lines += [f"Example texts withheld: {md(r['texts_withheld_reason'])}.", ""]

    for table in r["entity_tables"]:
        lines += [f"### {table['title']}", "", md(table["caption"]), ""]
        lines += _table(table["headers"], table["rows"])

    lines += ["### Attributions", ""]
    if rec.attribution is None:
        lines += _not_run("attributions")
    else:
        at = rec.attribution
        lines += [f"{md(at.method)}, {at.n_examples} examples; sensitive-token reliance {md(est(at.reliance_share))}; "
                  f"{at.large_delta_count} large convergence delta(s).", ""]
        lines += _table(["class", "top words"], [(cls, ", ".join(f"{w} {num(s)}" for w, s in words))
                                                 for cls, words in at.top_words.items()])

    lines += ["### Policy checks", ""]
    lines += _table(["check", "status", "effect", "measured", "threshold", "evidence"],
                    [(c.id, c.status, getattr(c, "effect", c.severity), num(c.measured), num(c.threshold), c.evidence)
                     for c in rec.policy.checks]) \
        if rec.policy else _not_run("policy evaluation")

    lines += ["### Sign-off history", ""]
    lines += _table(["when", "who", "decision", "comment"],
                    [(s["at"] or "–", s["by"] or "–", s["decision"] or "–", s["comment"] or "") for s in r["signoffs"]]) \
        if r["signoffs"] else ["No sign-off recorded for this run.", ""]

    lines += ["### Regulatory mapping", ""]
    lines += _table(["provision", "evidence", "status"],
                    [(row["provision"], ", ".join(s["title"] for s in row["sections"]), row["status"])
                     for row in r["regulatory_map"]])
    lines += ["### What this report does not establish", ""] + [f"- {md(item)}" for item in r["not_established"]] + [""]
    repro = r["reproduce"]
    lines += ["### Reproduce", ""] + [f"- {md(x)}" for x in (repro["command"], repro["report"], repro["verify"]) if x] + [""]
    return "\n".join(lines)


def comparison_markdown(c: dict[str, Any]) -> str:
    b, a = c["before"], c["after"]
    lines = [f"## govaudit comparison: `{md(b['run_id'])}` → `{md(a['run_id'])}`", "",
             f"Verdict {md(b['verdict'])} → **{md(a['verdict'])}**" + (" (changed)" if c["verdict_changed"] else " (unchanged)"), ""]
    lines += _table(["metric", "before", "after", "delta"],
                    [(m["metric"], num(m["before"]), num(m["after"]), signed(m["delta"])) for m in c["metrics"]])
    if c["groups"]:
        lines += _table(["grouping", "group", "impact ratio before → after", "delta", "four-fifths"],
                        [(g["grouping"], g["group"], f"{num(g['impact_ratio']['before'])} → {num(g['impact_ratio']['after'])}",
                          signed(g["impact_ratio"]["delta"]),
                          f"{g['status']['before'] or '–'} → {g['status']['after'] or '–'}") for g in c["groups"]])
    if c["checks"]:
        lines += _table(["check", "status before → after"],
                        [(k["id"], f"{k['status']['before'] or '–'} → {k['status']['after'] or '–'}") for k in c["checks"]])
    lines += [f"Records: before `{md(b['record_sha256'])}`, after `{md(a['record_sha256'])}`.", ""]
    return "\n".join(lines)
