"""Page plumbing: clear error messages instead of tracebacks, Markdown-safe text, verdict banners."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from audit.core.errors import BadInputError
from audit.core.text import markdown_inline
from audit.record.store import RunStore

__all__ = ["md", "guarded", "section", "verdict_banner", "short", "run_choice", "choose_stored_run"]

def md(text: object) -> str:
    """Escape record text for st.markdown: no links or autolinks, images, HTML, formatting or bidi tricks from data
    (`audit.core.text.markdown_inline`, the sanitiser the reports use too)."""
    return markdown_inline(text)


def short(digest: str | None, n: int = 12) -> str:
    return f"{digest[:n]}…" if digest else "-"


def _show(err: Exception) -> None:
    if isinstance(err, BadInputError):
        st.error(md(err.message), icon="⚠️")
        details = [f"where: {err.where}" if err.where else "", f"fix: {err.fix}" if err.fix else ""]
        if any(details):
            st.caption(md(" · ".join(d for d in details if d)))
    else:
        first = str(err).splitlines()[0] if str(err) else ""
        st.error(md(f"database error: {type(err).__name__}: {first}"), icon="⚠️")
        st.caption(md("fix: another process may hold a write lock (retry), or check --runs-root / --db-url"))


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Wrap a whole page: bad input and database errors become a message; the page stops there."""
    try:
        yield
    except (BadInputError, SQLAlchemyError) as err:
        _show(err)


@contextlib.contextmanager
def section(name: str) -> Iterator[None]:
    """Wrap one section: a record shape this version does not expect is shown as a note, not a traceback."""
    try:
        yield
    except (BadInputError, SQLAlchemyError) as err:
        _show(err)
    except (KeyError, TypeError, ValueError, AttributeError, OSError) as err:
        st.warning(md(f"{name}: could not be shown ({type(err).__name__}: {err})"))


_VERDICT = {"pass": st.success, "warn": st.warning, "fail": st.error}


def verdict_banner(verdict: str | None, failing: int = 0) -> None:
    if verdict is None:
        st.info("Verdict: not run (no policy evaluation in this run; see `govaudit gate`)")
        return
    text = f"Verdict: {md(verdict.upper())}" + (f" — {failing} blocking check(s) failed" if failing else "")
    _VERDICT.get(verdict, st.info)(text)


def run_choice(label: str, run_ids: list[str], param: str, default_index: int = 0, key: str | None = None) -> str | None:
    """A run selectbox that starts at `?<param>=<run id>` and writes the choice back to the URL."""
    if not run_ids:
        return None
    wanted = st.query_params.get(param)
    index = run_ids.index(wanted) if wanted in run_ids else min(default_index, len(run_ids) - 1)
    chosen = st.selectbox(label, run_ids, index=index, key=key or f"choose_{param}")
    if chosen and st.query_params.get(param) != chosen:
        st.query_params[param] = chosen
    return chosen


def choose_stored_run(store: RunStore) -> str | None:
    """The run picked in a selectbox over every run in the store (`?run=` in the URL); None, said so, if none."""
    run_ids = [row["run_id"] for row in store.list()]
    if not run_ids:
        st.info(f"No runs in {store.root}.")
        return None
    return run_choice("Run", run_ids, "run")
