"""The context enhancer that skips results of recognizers without context words gives Presidio's stock results."""
from __future__ import annotations

import pandas as pd
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from audit.core.config import ScrubConfig
from finetune.scrub import Scrubber
from finetune.scrub._engine import BUILTIN_RECOGNIZERS_DIR, LANGUAGE

SENTENCES = ["My phone number is 212 555 0147, call me after six.", "SSN: 078-05-1120, card 4111 1111 1111 1111",
             "Maria Gonzalez lives at 42 Elm Street, Springfield 62704.", "Contact Dr. Okafor at okafor@example.org",
             "Zip code 10115, account number 123456789012, date of birth 04/05/1987"]


def _analyze(scrubber: Scrubber, texts: list[str]) -> list[list[tuple]]:
    artifacts = [a for _, a in scrubber.analyzer.nlp_engine.process_batch(texts, LANGUAGE)]
    return [[(r.entity_type, r.start, r.end, round(r.score, 6), r.recognition_metadata.get("recognizer_name"))
             for r in scrubber.analyzer.analyze(text=t, language=LANGUAGE, entities=scrubber.spec.entities,
                                                nlp_artifacts=a, return_decision_process=True)]
            for t, a in zip(texts, artifacts)]


def test_same_results_as_presidios_enhancer() -> None:
    narratives = pd.read_csv(BUILTIN_RECOGNIZERS_DIR.parents[2] / "audit" / "data" / "demo" / "cfpb_payday_complaints.csv")
    texts = SENTENCES + [s for t in narratives["narrative"].dropna().astype(str).head(40) for s in t.split(". ")]
    config = ScrubConfig(mode="full", n_process=1)
    with Scrubber(config) as scrubber:
        ours = _analyze(scrubber, texts)
        assert type(scrubber.analyzer.context_aware_enhancer).__name__ == "ContextWordsOnlyEnhancer"
        before, after = config.context_window
        scrubber.analyzer.context_aware_enhancer = LemmaContextAwareEnhancer(context_prefix_count=before,
                                                                             context_suffix_count=after)
        stock = _analyze(scrubber, texts)
    assert ours == stock
    found = [r for results in ours for r in results]
    assert {"SpacyRecognizer", "PhoneRecognizer"} <= {r[4] for r in found}  # with and without context words
    assert any(r[3] > 0.4 and r[4] == "govaudit_struct_zip" for r in found)  # a context word raised a score
