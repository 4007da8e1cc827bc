"""The Scrubber: batched Presidio analysis (spaCy `nlp.pipe`), anonymization, windows for long texts, a
de-duplicating cache and a pool of forked worker processes that share the loaded engine.
"""
from __future__ import annotations

import multiprocessing
import os
import re
import signal
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from audit.core.config import ScrubConfig
from audit.core.errors import BadInputError

from ._engine import LANGUAGE, EngineSpec, build_analyzer
from ._operators import build_operators, pseudonym_key

if TYPE_CHECKING:
    from presidio_analyzer import RecognizerResult

__all__ = ["Scrubber", "Scrubbed", "split_windows", "rescan_regions", "is_masked"]


class Scrubbed(NamedTuple):
    """One scrubbed text. `checked`: the final text was analysed after its last change and nothing was found (whole
    if it never changed, else every replaced region +- `rescan_margin`), so the residual check need not scan it."""

    text: str
    counts: dict[str, int]  # entity type -> replacements
    checked: bool = True

_WORKER: dict[str, Any] = {}  # the scrubber inherited by forked workers
_CACHE_ENTRIES = 20_000
_MAX_AUTO_PROCESSES = 8
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")  # govaudit placeholders and pseudonyms


def is_masked(text: str, start: int, end: int, mask_chars: str = "Xx*#") -> bool:
    """True if `text[start:end]` holds no original characters: only mask characters, punctuation and (parts of)
    placeholders or pseudonyms already in `text`."""
    chars = list(text[start:end])
    for match in _PLACEHOLDER.finditer(text, max(0, start - 80), min(len(text), end + 80)):
        for pos in range(max(match.start(), start), min(match.end(), end)):
            chars[pos - start] = " "
    return not any(c.isalnum() and c not in mask_chars for c in chars)


def split_windows(text: str, size: int) -> list[tuple[int, str]]:
    """Cut `text` into pieces of at most `size` chars, at whitespace where possible; returns (offset, piece)."""
    if len(text) <= size:
        return [(0, text)]
    pieces, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = max(text.rfind(" ", start + size // 2, end), text.rfind("\n", start + size // 2, end))
            end = cut + 1 if cut > start else end
        pieces.append((start, text[start:end]))
        start = end
    return pieces


def rescan_regions(text: str, spans: Sequence[tuple[int, int]], margin: int) -> list[tuple[int, int]]:
    """Merged ranges of `margin` characters around each span, widened to whitespace (or the text's ends)."""
    regions: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        lo, hi = max(0, start - margin), min(len(text), end + margin)
        lo = 0 if lo == 0 else max(text.rfind(" ", 0, lo), text.rfind("\n", 0, lo)) + 1
        cut = min((c for c in (text.find(" ", hi), text.find("\n", hi)) if c >= 0), default=len(text))
        hi = len(text) if hi == len(text) else cut
        if regions and lo <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], hi))
        else:
            regions.append((lo, hi))
    return regions


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which terminates them (a worker dying mid-task would hang the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work(batch: list[str]) -> list[Scrubbed]:
    return _WORKER["scrubber"].scrub_batch(batch)


def _work_find(batch: list[str]) -> list[dict[str, int]]:
    return _WORKER["scrubber"].find_batch(batch)


def _work_spans(batch: list[str]) -> list[list[tuple[str, int, int]]]:
    return [[(r.entity_type, r.start, r.end) for r in found] for found in _WORKER["scrubber"].analyze_batch(batch)]


class Scrubber:
    """Presidio analyzer + anonymizer configured from a ScrubConfig. Use as a context manager (closes the pool)."""

    def __init__(self, config: ScrubConfig) -> None:
        from presidio_anonymizer import AnonymizerEngine

        self.config = config
        self.analyzer, self.spec = build_analyzer(config)
        unknown = sorted(set(config.thresholds) - set(self.spec.entities) - set(self.spec.not_covered))
        if unknown:
            raise BadInputError(f"thresholds for entity type(s) not scrubbed: {unknown}", where="scrub.thresholds",
                                fix="add them to scrub.entities or remove the threshold")
        self.key_source = "not used"
        key = None
        if config.operator == "pseudonym":
            key, self.key_source = pseudonym_key(config.pseudonym_key_env)
        self.operators = build_operators(config, self.spec.entities, key)
        self.anonymizer = AnonymizerEngine()
        self._min_threshold = min([config.default_threshold, *config.thresholds.values()])
        self._mask_chars = "Xx*#" + (config.mask_char if config.operator == "mask" else "")
        self._cache: OrderedDict[str, Scrubbed] = OrderedDict()
        self._pool = None
        self.analyzed = 0  # texts actually analysed (cache misses)
        self.n_process = config.n_process or min(os.cpu_count() or 1, _MAX_AUTO_PROCESSES)
        if self.n_process > 1 and "fork" not in multiprocessing.get_all_start_methods():
            if config.n_process:
                raise BadInputError("scrub.n_process > 1 needs the 'fork' start method (Linux/macOS)",
                                    where="scrub.n_process", fix="set scrub.n_process: 1")
            self.n_process = 1

    @property
    def engine_spec(self) -> EngineSpec:
        return self.spec

    def threshold(self, entity: str) -> float:
        return self.config.thresholds.get(entity, self.config.default_threshold)

    # -- analysis -------------------------------------------------------------------------------------------
    def analyze_batch(self, texts: Sequence[str],
                      regions: Sequence[list[tuple[int, int]] | None] | None = None) -> list[list[RecognizerResult]]:
        """Entities above their per-type threshold, per text (long texts analysed in windows). `regions`: per text,
        the (start, end) character ranges to analyse, or None for the whole text."""
        windows = []
        for i, text in enumerate(texts):
            for start, end in (regions[i] if regions and regions[i] is not None else [(0, len(text))]):
                windows.extend((i, start + off, piece)
                               for off, piece in split_windows(text[start:end], self.config.max_text_chars))
        found: list[list[RecognizerResult]] = [[] for _ in texts]
        artifacts = self.analyzer.nlp_engine.process_batch([w[2] for w in windows], LANGUAGE,
                                                          batch_size=self.config.batch_size)
        allow = self.config.allow_list or None
        for (i, off, piece), (_, nlp_artifacts) in zip(windows, artifacts):
            results = self.analyzer.analyze(text=piece, language=LANGUAGE, entities=self.spec.entities,
                                            score_threshold=self._min_threshold, allow_list=allow,
                                            nlp_artifacts=nlp_artifacts)
            for result in results:
                if result.score < self.threshold(result.entity_type):
                    continue
                if not (self.config.ignore_masked and is_masked(piece, result.start, result.end, self._mask_chars)):
                    result.start += off
                    result.end += off
                    found[i].append(result)
        return found

    def scrub_batch(self, texts: Sequence[str]) -> list[Scrubbed]:
        """Scrub, then re-scrub the neighbourhood of each replacement up to `passes` times in all (spaCy may tag a
        word once its neighbour became a placeholder), adding up the counts. A pass that finds nothing more marks
        the text `checked`; a text still changing in the last pass is left for the residual check."""
        out, replaced = self._scrub_once(texts)
        todo = [i for i, result in enumerate(out) if result.counts]
        for _ in range(self.config.passes - 1):
            if not todo:
                break
            regions = [rescan_regions(out[i].text, replaced[i], self.config.rescan_margin) for i in todo]
            again, again_replaced = self._scrub_once([out[i].text for i in todo], regions)
            for i, result, spans in zip(todo, again, again_replaced):
                out[i] = Scrubbed(result.text, dict(Counter(out[i].counts) + Counter(result.counts)))
                replaced[i] = spans
            todo = [i for i, result in zip(todo, again) if result.counts]
        for i in todo:
            out[i] = out[i]._replace(checked=False)
        return out

    def _scrub_once(self, texts: Sequence[str], regions: Sequence[list[tuple[int, int]]] | None = None,
                    ) -> tuple[list[Scrubbed], list[list[tuple[int, int]]]]:
        """One pass: scrubbed texts with counts, and the (start, end) of each replacement in the new text."""
        out: list[Scrubbed] = []
        replaced: list[list[tuple[int, int]]] = []
        for text, results in zip(texts, self.analyze_batch(texts, regions)):
            if not results:
                out.append(Scrubbed(text, {}))
                replaced.append([])
                continue
            engine_result = self.anonymizer.anonymize(text=text, analyzer_results=results, operators=self.operators)
            out.append(Scrubbed(engine_result.text, dict(Counter(item.entity_type for item in engine_result.items))))
            replaced.append(sorted((item.start, item.end) for item in engine_result.items))
        return out, replaced

    def find_batch(self, texts: Sequence[str]) -> list[dict[str, int]]:
        return [dict(Counter(r.entity_type for r in results)) for results in self.analyze_batch(texts)]

    # -- many texts: de-duplication, cache, worker pool ------------------------------------------------------
    def _map(self, fn: Any, items: list[str], on_batch: Callable[[int], None] | None = None) -> Iterator[Any]:
        batches = list(_batches(items, self.config.batch_size))
        if self.n_process > 1 and len(batches) > 1:
            if self._pool is None:  # forked lazily: the workers inherit the loaded engine
                _WORKER["scrubber"] = self
                self._pool = multiprocessing.get_context("fork").Pool(self.n_process, initializer=_ignore_sigint)
            outs: Iterator[Any] = self._pool.imap(fn, batches)
        else:
            _WORKER["scrubber"] = self
            outs = map(fn, batches)
        for batch_out in outs:
            yield from batch_out
            if on_batch is not None:
                on_batch(len(batch_out))

    def scrub(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> list[Scrubbed]:
        """Scrub texts in order; identical texts are scrubbed once (also across calls, bounded cache).
        `on_batch(n)` is called after each batch of n analysed texts (progress bars)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        self.analyzed += len(todo)
        for text, result in zip(todo, self._map(_work, todo, on_batch)):
            self._cache[text] = result
        out = [self._cache[t] for t in texts]
        for text in dict.fromkeys(texts):
            self._cache.move_to_end(text)
        while len(self._cache) > _CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return out

    def find(self, texts: Sequence[str]) -> list[dict[str, int]]:
        """Entity counts above threshold per text (no replacement): the residual check's scan."""
        unique = list(dict.fromkeys(texts))
        by_text = dict(zip(unique, self._map(_work_find, unique)))
        return [by_text[t] for t in texts]

    def spans(self, texts: Sequence[str]) -> list[list[tuple[str, int, int]]]:
        """(entity type, start, end) of what would be replaced, per text (benchmarks, reports)."""
        unique = list(dict.fromkeys(texts))
        by_text = dict(zip(unique, self._map(_work_spans, unique)))
        return [by_text[t] for t in texts]

    def clear_cache(self) -> None:
        self._cache.clear()

    def close(self, *, terminate: bool = False) -> None:
        """Stop the workers: let them finish (normal end) or kill them at once (`terminate`: error, Ctrl-C)."""
        if self._pool is not None:
            if terminate:
                self._pool.terminate()
            else:
                self._pool.close()
            self._pool.join()
            self._pool = None
        _WORKER.pop("scrubber", None)

    def __enter__(self) -> "Scrubber":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(terminate=exc_type is not None)
