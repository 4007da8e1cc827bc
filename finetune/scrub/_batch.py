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
from audit.core.console import progress
from audit.core.errors import BadInputError

from ._engine import DETECTOR_NAME, LANGUAGE, EngineSpec, build_analyzer
from ._operators import build_operators, pseudonym_key

if TYPE_CHECKING:
    from presidio_analyzer import RecognizerResult

__all__ = ["Scrubber", "Scrubbed", "split_windows", "rescan_regions", "segments", "is_masked"]


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
_PROGRESS_WINDOWS = 20  # texts split into more analysis windows than this get a progress bar


def is_masked(text: str, start: int, end: int, mask_chars: str = "Xx*#") -> bool:
    """True if `text[start:end]` holds no original characters: only mask characters, punctuation and (parts of)
    placeholders or pseudonyms already in `text`."""
    chars = list(text[start:end])
    for match in _PLACEHOLDER.finditer(text, max(0, start - 80), min(len(text), end + 80)):
        for pos in range(max(match.start(), start), min(match.end(), end)):
            chars[pos - start] = " "
    return not any(c.isalnum() and c not in mask_chars for c in chars)


_OVERLAP = 200  # characters neighbouring analysis windows share: an entity shorter than this is seen whole once
_SEARCH = 200  # how far a boundary is searched for (bounded, so long texts without spaces stay linear)
_SENTENCE_END = re.compile(r"[.!?\n]\s")


def _boundary(text: str, lo: int, hi: int) -> int:
    """A cut position in (lo, hi]: after the last sentence end, else after the last whitespace, else `hi`."""
    lo = max(lo, hi - _SEARCH * 10)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, max(lo, hi - _SEARCH), hi)]
    if ends:
        return ends[-1]
    cut = max(text.rfind(" ", lo, hi), text.rfind("\n", lo, hi), text.rfind("\t", lo, hi))
    return cut + 1 if cut > lo else hi


def split_windows(text: str, size: int, overlap: int = 0) -> list[tuple[int, str]]:
    """Cut `text` into pieces of at most `size` chars, at sentence ends or whitespace where possible; returns
    (offset, piece). With `overlap`, each piece starts about `overlap` chars (at whitespace) before the previous
    one ended, so an entity cut by one boundary is whole in the next piece."""
    if len(text) <= size:
        return [(0, text)]
    pieces, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            end = _boundary(text, start + size // 2, end)
        pieces.append((start, text[start:end]))
        if end >= len(text):
            break
        nxt = end
        if overlap:
            nxt = max(start + 1, end - overlap)
            space = text.find(" ", nxt, end)
            nxt = space + 1 if space >= 0 else nxt
        start = nxt
    return pieces


def rescan_regions(text: str, spans: Sequence[tuple[int, int]], margin: int) -> list[tuple[int, int]]:
    """Merged ranges of `margin` characters around each span, widened to whitespace (or the text's ends; the
    search for whitespace is bounded, so the cost stays linear in the number of spans)."""
    regions: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        lo, hi = max(0, start - margin), min(len(text), end + margin)
        if lo > 0:
            cut = max(text.rfind(" ", max(0, lo - _SEARCH), lo), text.rfind("\n", max(0, lo - _SEARCH), lo))
            lo = cut + 1 if cut >= 0 else max(0, lo - _SEARCH)
        if hi < len(text):
            found = [c for c in (text.find(" ", hi, hi + _SEARCH), text.find("\n", hi, hi + _SEARCH)) if c >= 0]
            hi = min(found) if found else min(len(text), hi + _SEARCH)
        if regions and lo <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], hi))
        else:
            regions.append((lo, hi))
    return regions


def segments(text: str, spans: Sequence[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Consecutive (start, end) ranges covering `text`, about `size` chars each, cut at sentence ends or whitespace
    and never inside a span (a cut that would fall in one moves to the span's end)."""
    covered: list[list[int]] = []
    for start, end in sorted(spans):
        if covered and start < covered[-1][1]:
            covered[-1][1] = max(covered[-1][1], end)
        else:
            covered.append([start, end])
    out, pos, k = [], 0, 0
    while pos < len(text):
        end = len(text) if pos + size >= len(text) else _boundary(text, pos + size // 2, pos + size)
        while k < len(covered) and covered[k][1] <= end:
            k += 1
        if k < len(covered) and covered[k][0] < end:  # the cut is inside a span: move past it
            end = covered[k][1]
        out.append((pos, end))
        pos = end
    return out


def _dedupe(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """One result per (type, start, end), the best score: overlapping windows see the same entity twice."""
    best: dict[tuple[str, int, int], RecognizerResult] = {}
    for result in results:
        key = (result.entity_type, result.start, result.end)
        if key not in best or result.score > best[key].score:
            best[key] = result
    return sorted(best.values(), key=lambda r: (r.start, r.end))


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

    def __init__(self, config: ScrubConfig, *, shared_key: tuple[bytes, str] | None = None) -> None:
        """`shared_key` (key, source) overrides the configured pseudonym key: Ray actors share the driver's."""
        from presidio_anonymizer import AnonymizerEngine

        self.config = config
        self.analyzer, self.spec = build_analyzer(config)
        self.detector = next((r for r in self.analyzer.registry.recognizers if r.name == DETECTOR_NAME), None)
        unknown = sorted(set(config.thresholds) - set(self.spec.entities) - set(self.spec.not_covered))
        if unknown:
            raise BadInputError(f"thresholds for entity type(s) not scrubbed: {unknown}", where="scrub.thresholds",
                                fix="add them to scrub.entities or remove the threshold")
        self.key_source = "not used"
        self.key: bytes | None = None
        if config.operator == "pseudonym":
            self.key, self.key_source = shared_key or pseudonym_key(config.pseudonym_key_env)
        self.operators = build_operators(config, self.spec.entities, self.key)
        self.anonymizer = AnonymizerEngine()
        self._min_threshold = min([config.default_threshold, *config.thresholds.values()])
        self._mask_chars = "Xx*#" + (config.mask_char if config.operator == "mask" else "")
        self._cache: OrderedDict[str, Scrubbed] = OrderedDict()
        self._pool = None
        self.analyzed = 0  # texts actually analysed (cache misses)
        # a detector model runs batched in one process (torch uses the cores itself; CUDA cannot be forked)
        auto = 1 if self.detector is not None else min(os.cpu_count() or 1, _MAX_AUTO_PROCESSES)
        self.n_process = config.n_process or auto
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
                               for off, piece in split_windows(text[start:end], self.config.max_text_chars, _OVERLAP))
        found: list[list[RecognizerResult]] = [[] for _ in texts]
        if self.detector is not None:  # the token classifier runs over the whole batch at once
            self.detector.prepare([w[2] for w in windows])
        artifacts = self.analyzer.nlp_engine.process_batch([w[2] for w in windows], LANGUAGE,
                                                          batch_size=self.config.batch_size)
        allow = self.config.allow_list or None
        pairs: Any = zip(windows, artifacts)
        if len(windows) > _PROGRESS_WINDOWS:  # one long text: show progress through it
            pairs = progress(pairs, total=len(windows), desc="long text", unit="window")
        for (i, off, piece), (_, nlp_artifacts) in pairs:
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
        if self.detector is not None:
            self.detector.release()
        return [_dedupe(results) for results in found]

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
            new_text, counts, spans = self._anonymize(text, results)
            out.append(Scrubbed(new_text, dict(counts)))
            replaced.append(spans)
        return out, replaced

    def _anonymize(self, text: str, results: list[RecognizerResult]) -> tuple[str, Counter, list[tuple[int, int]]]:
        """Replace `results` in `text`: segment by segment (cut between entities) so that a long text costs time
        linear in its length (Presidio's anonymizer is quadratic in the entities of one call)."""
        parts: list[str] = []
        counts: Counter = Counter()
        spans: list[tuple[int, int]] = []
        ordered = sorted(results, key=lambda r: r.start)
        k, shift = 0, 0
        for lo, hi in segments(text, [(r.start, r.end) for r in ordered], self.config.max_text_chars):
            mine = []
            while k < len(ordered) and ordered[k].start < hi:
                result = ordered[k]
                mine.append(type(result)(result.entity_type, result.start - lo, result.end - lo, result.score,
                                         result.analysis_explanation, result.recognition_metadata))
                k += 1
            piece = text[lo:hi]
            if mine:
                done = self.anonymizer.anonymize(text=piece, analyzer_results=mine, operators=self.operators)
                piece = done.text
                counts.update(item.entity_type for item in done.items)
                spans.extend((item.start + shift, item.end + shift) for item in done.items)
            parts.append(piece)
            shift += len(piece)
        return "".join(parts), counts, sorted(spans)

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
