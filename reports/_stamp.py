"""What a rendered HTML report was made from, so that a report file on disk is reused (the audit bundle) only while it
still matches: the run id, the record file's SHA-256, and one digest of everything else the page depends on (the
sign-offs and ledger problems it shows, whether example texts are shown, the runs root in its commands, the report
version and the templates), all <meta> tags in the page's head; and the SHA-256 of the page itself (computed with
its own tag's content set to PAGE_SLOT), so a page edited after rendering is never reused."""
from __future__ import annotations

import hashlib
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

__all__ = ["render_inputs_sha256", "page_stamp", "seal", "sealed", "PAGE_SLOT"]

PAGE_SLOT = "govaudit-page-sha256-slot"
_PAGE_META = '<meta name="govaudit-page-sha256" content="{}">'
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_META = re.compile(r'<meta name="(govaudit-[a-z0-9-]+)" content="([^"]*)">')


def _templates_sha256() -> str:
    digest = hashlib.sha256()
    for path in sorted(_TEMPLATES.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def render_inputs_sha256(content: dict[str, Any]) -> str:
    """SHA-256 of the inputs of a rendering other than the record (`content` from build_report)."""
    inputs = {"report_version": content["report_version"], "templates": _templates_sha256(),
              "signoffs": content["signoffs"], "ledger_problems": content["ledger_problems"],
              "texts_shown": content["texts_shown"], "reproduce": content["reproduce"]}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def page_stamp(page: str) -> dict[str, str]:
    """The govaudit <meta> tags of an HTML report (only its head is read)."""
    head = page[:page.find("</head>")] if "</head>" in page else page[:20_000]
    return {name: unescape(value) for name, value in _META.findall(head)}


def seal(page: str) -> str:
    """Fill the page's own SHA-256 into its govaudit-page-sha256 tag (rendered with content PAGE_SLOT)."""
    digest = hashlib.sha256(page.encode("utf-8")).hexdigest()
    return page.replace(_PAGE_META.format(PAGE_SLOT), _PAGE_META.format(digest), 1)


def sealed(page: str) -> bool:
    """Whether the page is byte for byte as rendered (its govaudit-page-sha256 tag holds its own hash)."""
    digest = page_stamp(page).get("govaudit-page-sha256")
    if not digest or _PAGE_META.format(digest) not in page:
        return False
    blank = page.replace(_PAGE_META.format(digest), _PAGE_META.format(PAGE_SLOT), 1)
    return hashlib.sha256(blank.encode("utf-8")).hexdigest() == digest
