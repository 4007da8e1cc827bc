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

__all__ = ["write_run_bundle", "ledger_excerpt"]


def ledger_excerpt(store: RunStore, run_id: str) -> dict[str, object]:
    """The run's sign-off entries (hash-chained, so each can be checked against the ledger) and the chain check."""
    from audit.record.signoff import SignoffLedger

    ledger = SignoffLedger(store)
    check = ledger.verify()
    return {"run_id": run_id, "entries": [e.as_dict() for e in ledger.history(run_id)],
            "ledger": {"entries": check.entries, "head": check.head, "ok": check.ok, "problems": list(check.problems)}}


def write_run_bundle(store: RunStore, run_id: str, path: Path, *, include_texts: bool = True) -> dict[str, object]:
    """record.json, report.html, report.pdf (when Chromium is installed), junit.xml (when the policy ran),
    ledger.json; signed with the store's key (`<runs-root>/bundle-key.pem`, made on first use)."""
    from audit.policy import junit_xml
    from reports import export_pdf, find_chromium, render_html

    if path.suffix.lower() != ".zip":
        raise BadInputError("the bundle is a zip file", where="--bundle", fix="give a path ending in .zip")
    record_bytes = (store.run_dir(run_id) / RECORD_FILE).read_bytes()
    record = store.load(run_id)
    sha = store.record_sha256(run_id)
    ledger = ledger_excerpt(store, run_id)
    html = render_html(record, sha, signoffs=ledger["entries"], ledger_problems=ledger["ledger"]["problems"],  # type: ignore[arg-type]
                       include_texts=None if include_texts else False, runs_root=str(store.root))
    files = {RECORD_FILE: record_bytes, "report.html": html.encode("utf-8"),
             "ledger.json": json.dumps(ledger, indent=2, sort_keys=True).encode("utf-8")}
    if record.policy is not None:
        files["junit.xml"] = junit_xml(record.policy, run_id).encode("utf-8")
    if find_chromium() is not None:
        with tempfile.TemporaryDirectory(prefix="govaudit-bundle-") as tmp:
            page = Path(tmp) / "report.html"
            page.write_text(html, encoding="utf-8")
            files["report.pdf"] = export_pdf(page, Path(tmp) / "report.pdf").read_bytes()
    else:
        warn("no Chromium found: the bundle has no report.pdf (Debian: apt-get install chromium)")
    return write_bundle(path, files, run_id=run_id, created_at=utc_now(), key=store_key(store.root))
