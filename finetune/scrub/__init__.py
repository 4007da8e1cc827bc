"""PII scrubbing of training text with Microsoft Presidio (GDPR Art. 5(1)(c), Art. 25; EU AI Act Art. 10).

- `Scrubber(config)`: the configured analyzer + anonymizer (batched, de-duplicated, optional worker processes).
- `scrub_texts(texts, config)`: in-memory scrubbing (e.g. to show only scrubbed text in a report).
- `run_scrub_stage(project, store, ...)`: the `govaudit scrub` stage (streams tables to `scrubbed/<role>.parquet`).
- `run_pii_evaluation(project, store, path)` / `evaluate_scrubber`: `govaudit scrub --evaluate`, the scrubber's
  per-entity recall and precision on labelled documents (`record.pii_evaluation`).
- `scrubbed_table_path` / `load_scrubbed_table`: what training uses to read the scrubbed data and check that it is
  the table the record describes (table SHA-256).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from audit.core.config import ScrubConfig
from audit.core.data import table_sha256
from audit.core.errors import BadInputError
from audit.record import RunRecord
from audit.record.store import RunStore, scrubbed_table_path

from ._batch import Scrubber, split_windows
from ._engine import nlp_configuration
from ._evaluate import DEFAULT_ENTITY_MAP, evaluate_scrubber, parse_entity_map, read_labelled, run_pii_evaluation
from ._operators import pseudonym
from ._stage import SCRUBBED_DIR, ResidualCheckFailed, run_scrub_stage
from ._table import StreamingTableHash

__all__ = [
    "SCRUBBED_DIR", "Scrubber", "ResidualCheckFailed", "scrub_texts", "run_scrub_stage", "scrubbed_table_path",
    "load_scrubbed_table", "pseudonym", "split_windows", "StreamingTableHash", "nlp_configuration",
    "DEFAULT_ENTITY_MAP", "evaluate_scrubber", "parse_entity_map", "read_labelled", "run_pii_evaluation",
]


def scrub_texts(texts: Sequence[str], config: ScrubConfig | None = None, *,
                scrubber: Scrubber | None = None) -> tuple[list[str], dict[str, int]]:
    """Scrub `texts` in memory; returns the scrubbed texts (same order) and replacements per entity type.

    Pass a `scrubber` to reuse a loaded engine (loading spaCy takes seconds); else one is built from `config`.
    """
    if scrubber is None:
        with Scrubber(config or ScrubConfig()) as owned:
            return scrub_texts(texts, scrubber=owned)
    if any(not isinstance(t, str) for t in texts):
        raise BadInputError("scrub_texts needs a list of strings")
    results = scrubber.scrub(list(texts))
    counts: Counter[str] = Counter()
    for result in results:
        counts.update(result.counts)
    return [result.text for result in results], dict(sorted(counts.items()))


def load_scrubbed_table(store: RunStore, record: RunRecord, role: str = "train") -> pd.DataFrame:
    """Read the scrubbed table and check its table SHA-256 against the record (refuse a swapped or edited file)."""
    path = scrubbed_table_path(store, record, role)
    if not path.is_file():
        raise BadInputError(f"scrubbed {role} table is missing", where=str(path), fix="scrub the run again")
    frame = pd.read_parquet(path)
    expected = record.scrub.tables[role].output.table_sha256  # type: ignore[union-attr]
    if table_sha256(frame) != expected:
        raise BadInputError(f"scrubbed {role} table does not match the run record (table SHA-256 differs)",
                            where=str(path), fix="the file was changed after scrubbing; scrub the run again")
    return frame
