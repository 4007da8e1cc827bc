"""The audit stage of a token classifier (task: token_classification): entity metrics, name swaps, span attributions.

Held-out documents come from `--data PATH`, else the run's test split (splits.parquet over data.train / data.eval),
else data.eval. Writes `record.entities` (strict and partial, with CIs), `entity_predictions.jsonl` (offsets and
labels only), `record.entity_parity` and `record.span_flips` (name swaps inside person spans, see
audit/probes/entity_parity; `counterfactual.enabled`) and `record.span_attribution` (captum per predicted span, see
audit/probes/attribution; `attribution.enabled`).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from audit.core.config import ProjectConfig
from audit.core.console import info
from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text
from audit.core.spans import SpanDoc, read_span_docs, tags_to_spans, word_tags
from audit.core.token_io import LoadedTokenClassifier, encode_words, load_token_classifier, predict_word_tags
from audit.record import RunRecord
from audit.record.entity_metrics import entity_section
from audit.record.store import RunStore, finish_stage

__all__ = ["ENTITY_PREDICTIONS_FILE", "held_out_docs", "prepare_token_audit", "run_token_audit"]

ENTITY_PREDICTIONS_FILE = "entity_predictions.jsonl"  # also written by `govaudit train` (finetune/train/_tokens.py)
_SPLITS_FILE = "splits.parquet"


def held_out_docs(project: ProjectConfig, store: RunStore, record: RunRecord | None,
                  data_path: Path | None) -> tuple[list[SpanDoc], str]:
    """The documents to audit and where they came from."""
    if data_path is not None:
        return read_span_docs(data_path, project.data), str(data_path)
    if record is not None and record.train is not None and store.artifact(record.run_id, _SPLITS_FILE).is_file():
        splits = pd.read_parquet(store.artifact(record.run_id, _SPLITS_FILE))
        tests = splits[splits["split"] == "test"]
        docs: list[SpanDoc] = []
        for source, rows in tests.groupby("source"):
            data = getattr(project.data, str(source))
            if data is None:
                raise BadInputError(f"the run's test split is in data.{source}, which the config no longer sets",
                                    fix="pass --data PATH")
            wanted = set(rows["row_id"])
            docs.extend(d for d in read_span_docs(data, project.data) if d.row_id in wanted)
        if docs:
            return docs, f"run {record.run_id} test split"
    if project.data.eval is not None:
        return read_span_docs(project.data.eval, project.data), str(project.data.eval.path)
    raise BadInputError("no held-out documents to audit", fix="pass --run RUN (a trained run), --data PATH, or set data.eval")


def prepare_token_audit(project: ProjectConfig, store: RunStore, record: RunRecord | None, *,
                        model_dir: Path | None, data_path: Path | None,
                        device: str | None) -> tuple[LoadedTokenClassifier, list[SpanDoc], str]:
    """Load and check the model and documents before anything is written."""
    if model_dir is None:
        if record is None or record.train is None:
            raise BadInputError("no trained model to audit", fix="run `govaudit train` first, or pass --model DIR")
        model_dir = store.artifact(record.run_id, record.train.model_artifact)
    classifier = load_token_classifier(model_dir, device)
    docs, source = held_out_docs(project, store, record, data_path)
    unknown = sorted({s.label for d in docs for s in d.spans} - {t.partition("-")[2] for t in classifier.labels})
    if unknown:
        raise BadInputError(f"entity types {unknown} are unknown to the model (its tags: {classifier.labels[:12]})",
                            fix="audit with documents labelled in the model's entity types")
    return classifier, docs, source


def run_token_audit(project: ProjectConfig, store: RunStore, record: RunRecord, classifier: LoadedTokenClassifier,
                    docs: list[SpanDoc], source: str, *, batch_size: int = 64) -> RunRecord:
    """Entity metrics, name swaps (parity, span flips) and span attributions into the record; `finish_stage`."""
    from audit.probes.counterfactual.terms import load_terms
    from audit.probes.entity_parity import entity_parity_section, name_swaps, span_flip_section

    info(f"auditing a token classifier on {len(docs)} held-out documents from {source}")
    encoded = encode_words(classifier.tokenizer, [d.word_texts() for d in docs], project.model.max_length)
    pred = predict_word_tags(classifier.model, encoded, classifier.labels, classifier.tokenizer.pad_token_id,
                             batch_size=batch_size, device=classifier.device)
    types = sorted({t.partition("-")[2] for t in classifier.labels if t != "O"})
    ner = project.ner
    record.entities = entity_section([word_tags(d) for d in docs], pred, types, split=source, n_boot=ner.n_boot,
                                     ci_level=ner.ci_level, seed=ner.seed, truncated_words=encoded.truncated_words,
                                     predictions_artifact=ENTITY_PREDICTIONS_FILE)
    rows = [{"row_id": d.row_id, "gold": [[s.start, s.end, s.label] for s in d.spans],
             "predicted": [[s.start, s.end, s.label] for s in tags_to_spans(tags, d.words)]}
            for d, tags in zip(docs, pred)]
    atomic_write_text(store.artifact(record.run_id, ENTITY_PREDICTIONS_FILE), "".join(json.dumps(r) + "\n" for r in rows))
    if project.counterfactual.enabled:
        swaps = name_swaps(classifier, docs, ner, load_terms(project.counterfactual.terms_file),
                           project.model.max_length, batch_size)
        record.entity_parity = entity_parity_section(swaps, ner.n_boot, ner.ci_level, ner.seed)
        record.span_flips = span_flip_section(swaps, ner.n_boot, ner.ci_level, ner.seed)
    if project.attribution.enabled:
        from audit.probes.attribution import span_attribution_section

        record.span_attribution = span_attribution_section(classifier, docs, pred, project.attribution,
                                                           ner.person_label, model_max_length=project.model.max_length,
                                                           n_boot=ner.n_boot, level=ner.ci_level)
    finish_stage(store, record, "audit")
    return record
