"""The run page's tabs are lazy (only the open tab's content runs): open one in an AppTest, or visit each in turn."""
from __future__ import annotations

from collections.abc import Iterator

from streamlit.testing.v1 import AppTest

from dashboard.screens.run import TAB_KEY, TABS

__all__ = ["open_tab", "each_tab"]


def open_tab(at: AppTest, name: str) -> AppTest:
    """Switch the run page to tab `name` (as a click does: the page reruns with that tab open)."""
    at.session_state[TAB_KEY] = name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def each_tab(at: AppTest) -> Iterator[AppTest]:
    """The page with each tab open in turn, first to last."""
    for name in TABS:
        yield open_tab(at, name)
