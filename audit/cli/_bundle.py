"""Assemble a run's signed audit bundle: the only place that brings record, report, policy output and ledger together."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from audit.core.console import warn
from audit.core.errors import BadInputError
from audit.record import utc_now
from audit.record.bundle import store_key, write_bundle
from audit.record.store import RECORD_FILE, RunStore

__all__ = ["write_run_bundle", "ledger_excerpt", "check_bundle_path"]


def ledger_excerpt(store: RunStore, run_id: str) -> dict[str, object]:
    """The run's sign-off entries (hash-chained, so each can be checked against the ledger) and the chain check."""
    from audit.record.signoff import SignoffLedger

    ledger = SignoffLedger(store)
    check = ledger.verify()
    return {"run_id": run_id, "entries": [e.as_dict() for e in ledger.history(run_id)],
            "ledger": {"entries": check.entries, "head": check.head, "ok": check.ok, "problems": list(check.problems)}}


def check_bundle_path(path: Path) -> None:
    if path.suffix.lower() != ".zip":
        raise BadInputError("the bundle is a zip file", where="--bundle", fix="give a path ending in .zip")


def write_run_bundle(store: RunStore, run_id: str, path: Path, *, include_texts: bool = True,
                     html_file: Path | None = None, pdf_file: Path | None = None) -> dict[str, object]:
    """record.json, report.html, report.pdf (when Chromium is installed), junit.xml (when the policy ran),
    ledger.json; signed with the store's key (`<runs-root>/bundle-key.pem`, made on first use).

    `html_file`: an HTML report already rendered on disk; it is packed byte for byte (its SHA-256 in the manifest is
    the file's) when it still matches the record, sign-offs and options (reports.html_matches), else the report is
    rendered. `pdf_file`: a PDF just printed from that file, packed with it instead of printing again. The manifest
    gets `report_html`: the path of the packed file, or "rendered"."""
    from audit.policy import junit_xml
    from reports import export_pdf, find_chromium, html_matches, render_html

    check_bundle_path(path)
    record_bytes = (store.run_dir(run_id) / RECORD_FILE).read_bytes()
    record = store.load(run_id)
    sha = store.record_sha256(run_id)
    ledger = ledger_excerpt(store, run_id)
    options = {"signoffs": ledger["entries"], "ledger_problems": ledger["ledger"]["problems"],  # type: ignore[index]
               "include_texts": None if include_texts else False, "runs_root": str(store.root)}
    on_disk = html_file.read_bytes() if html_file is not None and html_file.is_file() else None
    reused = on_disk is not None and html_matches(on_disk.decode("utf-8", "replace"), record, sha, **options)
    html = on_disk if reused and on_disk is not None else render_html(record, sha, **options).encode("utf-8")
    files = {RECORD_FILE: record_bytes, "report.html": html,
             "ledger.json": json.dumps(ledger, indent=2, sort_keys=True).encode("utf-8")}
    if record.policy is not None:
        files["junit.xml"] = junit_xml(record.policy, run_id).encode("utf-8")
    if reused and pdf_file is not None and pdf_file.is_file():
        files["report.pdf"] = pdf_file.read_bytes()
    elif find_chromium() is not None:
        with tempfile.TemporaryDirectory(prefix="govaudit-bundle-") as tmp:
            page = Path(tmp) / "report.html"
            page.write_bytes(files["report.html"])
            files["report.pdf"] = export_pdf(page, Path(tmp) / "report.pdf").read_bytes()
    else:
        warn("no Chromium found: the bundle has no report.pdf (Debian: apt-get install chromium)")
    manifest = write_bundle(path, files, run_id=run_id, created_at=utc_now(), key=store_key(store.root))
    return {**manifest, "report_html": str(html_file) if reused else "rendered"}
