"""`govaudit report RUN`: the run record as a self-contained HTML compliance report (or Markdown / JSON), a
comparison with another run, and an optional PDF through headless Chromium."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from audit.core.console import info
from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text, write_target

from ._options import DbUrlOpt, RunsRootOpt, open_store, output

__all__ = ["register"]

_EXTENSIONS = {"html": "html", "md": "md", "json": "json"}


def _signoffs(store: Any, run_id: str) -> tuple[list[Any], list[str]]:
    """Sign-off decisions on this run and any ledger-chain problems (empty when no ledger module is present)."""
    try:
        from audit.record.signoff import SignoffLedger
    except ImportError:
        return [], []
    ledger = SignoffLedger(store)
    check = ledger.verify()
    return ledger.history(run_id), list(check.problems)


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        run_id: Annotated[str, typer.Argument(help="Run id (see `govaudit runs list`).")],
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file; '-' for stdout. Default: "
                                                 "<runs-root>/<run>/report.<format> (compare-<other>.<format> with --compare).")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="html (self-contained page), md (PR comment) or json.")] = "html",
        compare: Annotated[str | None, typer.Option("--compare", help="Baseline run: report the changes from it to RUN "
                                                    "(before -> after), e.g. before/after mitigation.")] = None,
        pdf: Annotated[bool, typer.Option("--pdf", help="Also print the HTML to PDF with headless Chromium.")] = False,
        texts: Annotated[bool, typer.Option("--texts/--no-texts", help="Show scrubbed example texts (never shown "
                                            "for runs without a passing scrub).")] = True,
        bundle: Annotated[Path | None, typer.Option("--bundle", help="Also write a signed audit bundle (zip: record, "
                                                    "HTML, PDF if Chromium is installed, JUnit, ledger excerpt, "
                                                    "SHA-256 manifest, Ed25519 signature with the store's key).")] = None,
    ) -> None:
        """Render a run's record as a compliance report that embeds the run id and the record's SHA-256."""
        from reports import export_pdf, render_comparison, render_report

        if fmt not in _EXTENSIONS:
            raise BadInputError(f"unknown format {fmt!r}", where="--format", fix="use html, md or json")
        if pdf and (fmt != "html" or str(out) == "-"):
            raise BadInputError("--pdf needs an HTML report written to a file", fix="drop --format/--out - or --pdf")
        if bundle is not None and compare:
            raise BadInputError("--bundle packs one run's evidence", where="--compare", fix="drop --compare or --bundle")
        if bundle is not None:
            from ._bundle import check_bundle_path

            check_bundle_path(bundle)
        if out is not None and str(out) != "-":
            if out.suffix.lower() == ".pdf":
                raise BadInputError("--out names a .pdf file but the report is HTML, Markdown or JSON", where="--out",
                                    fix=f"--out {out.with_suffix('.html')} --pdf (writes the HTML and the PDF beside it)")
            write_target(out)
        store = open_store(runs_root, db_url)
        record = store.load(run_id)
        sha = store.record_sha256(run_id)
        if bundle is not None:
            from audit.record.bundle import store_key

            store_key(store.root)  # a bad signing key is found before anything is written
        if compare:
            baseline = store.load(compare)
            text = render_comparison(baseline, record, fmt=fmt, base_sha256=store.record_sha256(compare),  # type: ignore[arg-type]
                                     other_sha256=sha)
            default = store.run_dir(run_id) / f"compare-{compare}.{_EXTENSIONS[fmt]}"
        else:
            decisions, problems = _signoffs(store, run_id)
            text = render_report(record, fmt, sha, signoffs=decisions, ledger_problems=problems,  # type: ignore[arg-type]
                                 include_texts=None if texts else False, runs_root=str(store.root))
            default = store.run_dir(run_id) / f"report.{_EXTENSIONS[fmt]}"
        if str(out) == "-":
            _bundle(store, run_id, bundle, texts, store.run_dir(run_id) / "report.html", None)
            typer.echo(text, nl=False)
            return
        path = out or default
        atomic_write_text(path, text)
        payload: dict[str, Any] = {"run_id": run_id, "format": fmt, "path": str(path), "record_sha256": sha,
                                   "compare": compare, "bundle": str(bundle) if bundle else None}
        if pdf:
            pdf_path = export_pdf(path, path.with_suffix(".pdf"))
            payload["pdf"] = str(pdf_path)
            info(f"PDF written to {pdf_path}")
        if bundle is not None:
            html = path if fmt == "html" else store.run_dir(run_id) / "report.html"
            payload["bundle_report_html"] = _bundle(store, run_id, bundle, texts, html, payload.get("pdf"))
        output(payload, f"report written to {path}" + (f" (and {payload['pdf']})" if pdf else ""))


def _bundle(store: Any, run_id: str, bundle: Path | None, texts: bool, html: Path, pdf: str | None) -> str | None:
    """Write the signed bundle, packing the HTML report on disk at `html` when it matches (else rendering one);
    returns the packed file's path or 'rendered' (None without --bundle)."""
    if bundle is None:
        return None
    from ._bundle import write_run_bundle

    manifest = write_run_bundle(store, run_id, bundle, include_texts=texts, html_file=html,
                                pdf_file=Path(pdf) if pdf else None)
    source = manifest["report_html"]
    info(f"signed bundle written to {bundle} ({len(manifest['files'])} files; report.html "  # type: ignore[arg-type]
         + (f"packed from {source})" if source != "rendered" else "rendered for the bundle)"))
    return str(source)
