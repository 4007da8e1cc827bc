"""Console conventions: messages go to stderr, never data rows; progress bars honour --quiet."""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console

__all__ = ["console", "set_quiet", "is_quiet", "info", "warn", "progress", "end_progress_bars"]

T = TypeVar("T")
console = Console(stderr=True, highlight=False)
_state = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    _state["quiet"] = quiet


def is_quiet() -> bool:
    return _state["quiet"]


def info(message: str) -> None:
    """A status line. Callers pass counts and names, never cell values (they may hold PII)."""
    if not _state["quiet"]:
        console.print(message, markup=False, soft_wrap=True)


def warn(message: str) -> None:
    console.print(f"warning: {message}", style="yellow", markup=False, soft_wrap=True)


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it") -> Iterator[T]:
    """tqdm progress with a rate (e.g. texts/s); silent under --quiet or when stderr is not a terminal in CI."""
    from tqdm.auto import tqdm

    disable = _state["quiet"] or (not sys.stderr.isatty() and total is not None and total < 1)
    yield from tqdm(items, total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr, mininterval=1.0)


def end_progress_bars() -> None:
    """Close open tqdm bars (ending their line) so that an error message starts on a line of its own."""
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()
