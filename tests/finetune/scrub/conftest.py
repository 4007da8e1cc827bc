"""Fixtures shared by the scrub tests."""
from __future__ import annotations

import pytest

from audit.core.config import ScrubConfig
from finetune.scrub import Scrubber


@pytest.fixture(scope="module")
def patterns_scrubber():
    """A patterns-mode scrubber (regex recognizers only, no spaCy), one per test module."""
    with Scrubber(ScrubConfig(mode="patterns", n_process=1)) as owned:
        yield owned
