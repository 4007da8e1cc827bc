"""Long dense-PII texts: scanned in overlapping windows, replaced segment by segment (bounded work per call)."""
from __future__ import annotations

import random

from audit.core.config import ScrubConfig
from finetune.scrub import Scrubber
from finetune.scrub._batch import segments, split_windows

PHONE = "(415) 867-2291"


def _dense(n: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    return "".join(f"Case {i} was closed, write to user{rng.randrange(10**6)}@example.com today. " for i in range(n))


def test_an_entity_cut_by_a_window_boundary_is_still_found():
    text = "word " * 197 + PHONE + " was my number " + "word " * 300  # the last space before char 1000 is inside it
    assert 985 < text.index(PHONE) + 5 < 1000
    with Scrubber(ScrubConfig(mode="patterns", n_process=1, max_text_chars=1000)) as scrubber:
        out = scrubber.scrub([text])[0]
    assert PHONE not in out.text and "867-2291" not in out.text and out.counts == {"PHONE_NUMBER": 1}


def test_windowed_and_whole_scrubs_agree_and_each_replacement_call_is_bounded(monkeypatch):
    text = _dense(400)
    with Scrubber(ScrubConfig(mode="patterns", n_process=1)) as whole:
        expected = whole.scrub([text])[0]
    with Scrubber(ScrubConfig(mode="patterns", n_process=1, max_text_chars=1000)) as windowed:
        sizes = []
        real = windowed.anonymizer.anonymize

        def counting(*, text, analyzer_results, operators):
            sizes.append(len(analyzer_results))
            return real(text=text, analyzer_results=analyzer_results, operators=operators)

        monkeypatch.setattr(windowed.anonymizer, "anonymize", counting)
        got = windowed.scrub([text])[0]
    assert got.text == expected.text and got.counts == expected.counts == {"EMAIL_ADDRESS": 400}
    assert max(sizes) <= 60  # what one ~1,000-char segment holds: never one call with all of them (>= 800)


def test_windows_overlap_and_segments_never_cut_a_span():
    text = _dense(50)
    pieces = split_windows(text, 500, overlap=100)
    assert all(len(p) <= 500 and text[off:off + len(p)] == p for off, p in pieces)
    assert all(b[0] < a[0] + len(a[1]) for a, b in zip(pieces, pieces[1:]))  # each starts before the previous ends
    spans = [(m, m + 30) for m in range(40, len(text) - 40, 77)]
    cuts = segments(text, spans, 500)
    assert cuts[0][0] == 0 and cuts[-1][1] == len(text) and all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))
    assert not any(s < end < e for _, end in cuts for s, e in spans)
