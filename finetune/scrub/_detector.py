"""A trained token classifier inside the scrubber: a Presidio `EntityRecognizer` over a govaudit token-classification
run's model (`scrub.detector`, docs/scrub.md).

The model is loaded with `audit.core.token_io.load_token_classifier` (safetensors only, offline, no remote code).
Texts are split into words (`audit.core.spans.words_of`), read in windows of `window_words` words, tagged by the
first sub-word of each word, and IOB tags become character spans; a span's score is the mean probability of its
words' tags, and spans under `min_score` are dropped. The scrubber calls `prepare(texts)` with a whole batch before
analysing it, so the model runs batched; `analyze` then only looks up the batch's results.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from audit.core.config import DetectorConfig
from audit.core.errors import BadInputError
from audit.core.io import sha256_bytes, sha256_file
from audit.core.spans import tags_to_spans, words_of
from audit.core.token_io import encode_words, load_token_classifier, predict_word_scores

from ._engine import DETECTOR_NAME

__all__ = ["DEFAULT_LABEL_MAP", "TokenClassifierRecognizer", "detector_model_dir"]

# model label -> scrubber entity type; labels not listed keep their own name
DEFAULT_LABEL_MAP = {"PER": "PERSON", "LOC": "LOCATION", "GPE": "LOCATION", "ADDRESS": "STREET_ADDRESS",
                     "PHONE": "PHONE_NUMBER", "EMAIL": "EMAIL_ADDRESS", "DOMAIN_NAME": "URL"}
_MAX_TOKENS = 512


def detector_model_dir(config: DetectorConfig) -> Path:
    """The model directory: `model_dir`, or `<run>/model` of a govaudit run."""
    if config.model_dir is not None:
        return Path(config.model_dir)
    directory = Path(config.run) / "model"  # type: ignore[arg-type]
    if not directory.is_dir():
        raise BadInputError(f"run directory has no model/: {config.run}", where="scrub.detector.run",
                            fix="point to a finished token-classification run (runs/<id>) or set model_dir")
    return directory


class TokenClassifierRecognizer(EntityRecognizer):
    """Spans of a fine-tuned token classifier as Presidio `RecognizerResult`s of scrubber entity types."""

    def __init__(self, config: DetectorConfig, supported_language: str = "en") -> None:
        self.detector = config
        self.classifier = load_token_classifier(detector_model_dir(config), config.device)
        kinds = sorted({label.partition("-")[2] for label in self.classifier.labels if label.partition("-")[2]})
        if not kinds:
            raise BadInputError("the detector model has no entity labels (B-/I- tags in id2label)",
                                where="scrub.detector", fix="train it with task: token_classification")
        mapping = {**DEFAULT_LABEL_MAP, **config.entity_map}
        types = {kind: mapping.get(kind, kind) for kind in kinds}
        wanted = config.entities or sorted(set(types.values()))
        unknown = sorted(set(wanted) - set(types.values()))
        if unknown:
            raise BadInputError(f"scrub.detector.entities {unknown} are not among the model's types "
                                f"{sorted(set(types.values()))}", where="scrub.detector.entities",
                                fix="map model labels with scrub.detector.entity_map or drop those names")
        self.types = {kind: name for kind, name in types.items() if name in wanted}
        self.max_tokens = min(_MAX_TOKENS, int(getattr(self.classifier.model.config, "max_position_embeddings",
                                                       _MAX_TOKENS)))
        self._prepared: dict[str, list[tuple[str, int, int, float]]] = {}
        super().__init__(supported_entities=list(wanted), name=DETECTOR_NAME, supported_language=supported_language)

    def describe(self) -> dict[str, str]:
        """For `record.scrub.engine`: the model's SHA-256 (of its safetensors files, sorted by name) and settings."""
        files = sorted(self.classifier.path.glob("*.safetensors"))
        digest = sha256_file(files[0]) if len(files) == 1 else sha256_bytes(
            "".join(f"{f.name}:{sha256_file(f)}\n" for f in files).encode())
        return {"detector_model_sha256": digest, "detector_entities": ",".join(self.supported_entities),
                "detector_min_score": f"{self.detector.min_score:g}"}

    def load(self) -> None:  # the model is loaded in __init__
        pass

    def prepare(self, texts: list[str]) -> None:
        """Run the model over a batch of texts at once; `analyze` on these texts then reads the results."""
        unique = list(dict.fromkeys(t for t in texts if t not in self._prepared))
        self._prepared.update(zip(unique, self._predict(unique)))

    def release(self) -> None:
        self._prepared = {}

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        found = self._prepared.get(text)
        if found is None:
            found = self._predict([text])[0]
        metadata = {RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}
        return [RecognizerResult(kind, start, end, score, recognition_metadata=dict(metadata))
                for kind, start, end, score in found if kind in entities]

    def _predict(self, texts: list[str]) -> list[list[tuple[str, int, int, float]]]:
        """Per text: (entity type, start, end, mean word probability) of each span at or above min_score."""
        windows: list[tuple[int, list[tuple[int, int]]]] = []
        for i, text in enumerate(texts):
            words = words_of(text)
            size = self.detector.window_words
            windows.extend((i, words[k : k + size]) for k in range(0, len(words), size))
        out: list[list[tuple[str, int, int, float]]] = [[] for _ in texts]
        if not windows:
            return out
        tokenizer = self.classifier.tokenizer
        encoded = encode_words(tokenizer, [[texts[i][a:b] for a, b in words] for i, words in windows],
                               self.max_tokens)
        scored = predict_word_scores(self.classifier.model, encoded, self.classifier.labels, tokenizer.pad_token_id,
                                     batch_size=self.detector.batch_size, device=self.classifier.device)
        for (i, words), tagged in zip(windows, scored):
            tags = [tag for tag, _ in tagged]
            for span in tags_to_spans(tags, words):
                name = self.types.get(span.label)
                if name is None:
                    continue
                probs = [p for (a, b), (_, p) in zip(words, tagged) if a >= span.start and b <= span.end]
                score = sum(probs) / len(probs)
                if score >= self.detector.min_score:
                    out[i].append((name, span.start, span.end, round(score, 4)))
        return out
