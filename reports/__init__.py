"""govaudit reports: the run record as a self-contained HTML compliance report, Markdown or JSON; run comparisons;
optional PDF export through headless Chromium."""
from ._browser import export_pdf, find_chromium
from ._entities import Table, entity_tables
from ._format import est, num, pct, pvalue
from .render import (
    Format,
    build_comparison,
    build_report,
    html_matches,
    render_comparison,
    render_html,
    render_json,
    render_markdown,
    render_report,
)

__all__ = ["Format", "render_report", "render_html", "render_markdown", "render_json", "render_comparison",
           "html_matches", "build_report", "build_comparison", "export_pdf", "find_chromium", "num", "pct", "est",
           "pvalue", "entity_tables", "Table"]
