"""Render a run record as a self-contained HTML compliance report, Markdown (PR comment) or JSON, and compare runs.

Reads only the RunRecord. HTML: jinja2 with autoescape on, inline CSS pinned by a CSP hash, inline SVG charts,
no scripts and no external requests.
"""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from markupsafe import Markup, escape

from audit.core.text import neutralise
from audit.record import RunRecord
from audit.record.status import (FOUR_FIFTHS, LABELS, check_level, evidence_level, group_status, impact_check, max_flip,
                                 monitoring_status)

from . import _charts, _monitoring
from ._compare import build_comparison
from ._format import est, est_pct, num, pct, pvalue, signed
from ._markdown import comparison_markdown, report_markdown
from ._model import (EXCERPT_CONTEXT, build_report, charted_groups, check_anchor, excerpt, grouping_bars,
                     is_intersection, ll144_excluded, swap_segments)
from ._regmap import SECTION_TITLES
from ._stamp import PAGE_SLOT, page_stamp, render_inputs_sha256, seal, sealed

__all__ = ["Format", "render_report", "render_html", "render_markdown", "render_json", "render_comparison",
           "html_matches", "build_report", "build_comparison", "CSP_TEMPLATE"]

Format = Literal["html", "md", "json"]
CSP_TEMPLATE = ("default-src 'none'; style-src '{style_hash}'; img-src data:; font-src 'none'; script-src 'none'; "
                "connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'")
_CSP_SLOT = "govaudit-csp-slot"
_METRIC_ORDER = ("base_rate", "accuracy", "tpr", "fpr")


def _metric_names(grouping: Any) -> list[str]:
    present = {m for g in grouping.groups for m in g.metrics if m not in ("selection_rate", "count")}
    return [m for m in _METRIC_ORDER if m in present] + sorted(present - set(_METRIC_ORDER))


def _check_kinds(checks: list[Any]) -> list[list[Any]]:
    """Check results grouped by check kind (the id before ':'), in policy order."""
    kinds: dict[str, list[Any]] = {}
    for check in checks:
        kinds.setdefault(check.id.split(":", 1)[0], []).append(check)
    return list(kinds.values())


def _entity_rows(counts: dict[str, dict[str, int]]) -> list[tuple[str, str, int]]:
    return [(column, entity, n) for column, by_entity in counts.items() for entity, n in by_entity.items()]


def _finalize(value: Any) -> Any:
    """Every `{{ }}` output: bidi and invisible controls become visible escapes (`audit.core.text.neutralise`)."""
    if isinstance(value, Markup):
        return Markup(neutralise(value))
    return neutralise(value) if isinstance(value, str) else value


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             finalize=_finalize)
    env.filters.update(num=num, pct=pct, est=est, est_pct=est_pct, signed=signed, pvalue=pvalue, zip=zip,
                       token_classes=_charts.token_classes, is_intersection=is_intersection, metric_names=_metric_names,
                       bars=grouping_bars, entity_rows=_entity_rows, charted=charted_groups, check_kinds=_check_kinds,
                       ll144_excluded=ll144_excluded,
                       ratio_threshold=lambda g, p: getattr(impact_check(p, g), "threshold", None) or FOUR_FIFTHS,
                       ratio_basis=lambda g, p: getattr(impact_check(p, g), "basis", None) or "point estimate",
                       curve_points=lambda curves: [(c.step, c.train_loss, c.val_macro_f1) for c in curves])
    env.globals.update(interval_chart=_charts.interval_chart, curve_chart=_charts.curve_chart, titles=SECTION_TITLES,
                       group_status=group_status, check_level=check_level, labels=LABELS, max_flip=max_flip,
                       evidence_level=evidence_level,
                       check_anchor=check_anchor, monitoring_status=monitoring_status,
                       swap_segments=swap_segments, excerpt_context=EXCERPT_CONTEXT)
    env.filters["excerpt"] = excerpt
    env.filters["window_anchor"] = _monitoring.window_anchor
    env.globals["monitoring_charts"] = _monitoring.monitoring_charts
    return env


def _with_csp(page: str) -> str:
    """Pin the one inline <style> block by its SHA-256 in the CSP meta tag (no 'unsafe-inline')."""
    start = page.index("<style>") + len("<style>")
    css = page[start:page.index("</style>", start)]
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    csp = CSP_TEMPLATE.format(style_hash=f"sha256-{digest}")
    return page.replace(_CSP_SLOT, str(escape(csp)), 1)


def render_html(record: RunRecord, record_sha256: str | None = None, *, signoffs: Iterable[Any] | None = None,
                **options: Any) -> str:
    """The full report as one HTML document. `signoffs`: sign-off decisions (SignoffEntry, mappings or models).
    Options (see build_report): `ledger_problems` (sign-off chain breaks to show), `include_texts=False` to withhold
    example texts (always withheld for runs without a passing scrub), `runs_root` for the verify command."""
    content = build_report(record, record_sha256, signoffs=signoffs, **options)
    config_json = json.dumps(content["record"]["config"], indent=2, sort_keys=True, default=str)
    page = _environment().get_template("report.html.j2").render(r=content, rec=record, csp=_CSP_SLOT,
                                                                 config_json=config_json,
                                                                 render_inputs=render_inputs_sha256(content),
                                                                 page_slot=PAGE_SLOT)
    return seal(_with_csp(page))


def html_matches(page: str, record: RunRecord, record_sha256: str, *, signoffs: Iterable[Any] | None = None,
                 **options: Any) -> bool:
    """Whether `page` (an HTML report, e.g. a file on disk) is what render_html would show now for these inputs:
    same run, same record file hash, same sign-offs, texts, report version and templates, and not edited since it
    was rendered (reports/_stamp.py); only its 'generated' time may differ."""
    stamp = page_stamp(page)
    if not sealed(page):
        return False
    content = build_report(record, record_sha256, signoffs=signoffs, **options)
    return (stamp.get("govaudit-run-id") == record.run_id and stamp.get("govaudit-record-sha256") == record_sha256
            and stamp.get("govaudit-render-inputs-sha256") == render_inputs_sha256(content))


def render_markdown(record: RunRecord, record_sha256: str | None = None, *, signoffs: Iterable[Any] | None = None,
                    **options: Any) -> str:
    """The same content as Markdown for a pull-request comment (every value escaped)."""
    return report_markdown(build_report(record, record_sha256, signoffs=signoffs, **options), record)


def render_json(record: RunRecord, record_sha256: str | None = None, *, signoffs: Iterable[Any] | None = None,
                **options: Any) -> str:
    """The same content as JSON: verdict, findings, section status, regulatory mapping, sign-offs and the record."""
    content = build_report(record, record_sha256, signoffs=signoffs, **options)
    return json.dumps(content, indent=2, sort_keys=False, default=str)


def render_report(record: RunRecord, fmt: Format = "html", record_sha256: str | None = None, **kwargs: Any) -> str:
    renderers = {"html": render_html, "md": render_markdown, "json": render_json}
    if fmt not in renderers:
        from audit.core.errors import BadInputError

        raise BadInputError(f"unknown report format {fmt!r}", fix="use html, md or json")
    return renderers[fmt](record, record_sha256, **kwargs)


def render_comparison(base: RunRecord, other: RunRecord, *, fmt: Format = "html", base_sha256: str | None = None,
                      other_sha256: str | None = None) -> str:
    """Compare two runs (`base` before, `other` after): metric deltas, group changes, verdict and check changes."""
    content = build_comparison(base, other, base_sha256, other_sha256)
    if fmt == "json":
        return json.dumps(content, indent=2, default=str)
    if fmt == "md":
        return comparison_markdown(content)
    if fmt != "html":
        from audit.core.errors import BadInputError

        raise BadInputError(f"unknown report format {fmt!r}", fix="use html, md or json")
    return _with_csp(_environment().get_template("compare.html.j2").render(c=content, csp=_CSP_SLOT))
