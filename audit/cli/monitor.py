"""`govaudit monitor --run RUN --log LOGS...`: re-audit production prediction logs in windows for drift and fairness.

Exit 0 ok (warnings allowed), 1 an active alert, 2 bad input. Results go to the child run `<RUN>.monitor`
(record section `monitoring`, window statistics in its `monitoring/` folder), so the audited run and its sign-off
stay untouched. This module wires the stage: the tokenizer of the run's model and the patterns-mode PII scrubber
(finetune.scrub) are passed into audit.monitor as plain functions.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from audit.core.errors import BadInputError, ExitCode, PolicyFailed
from audit.core.io import atomic_write_text

from ._options import DbUrlOpt, EngineOpt, RayAddressOpt, RunsRootOpt, engine_overrides, json_mode, open_store

__all__ = ["register", "monitor_run", "child_run_id", "actor_describer"]

OutOpt = Annotated[Path | None, typer.Option(help="Also write this output to PATH.")]


def child_run_id(run_id: str) -> str:
    return f"{run_id}.monitor"


def _labels(predictions) -> list[str]:
    labels = [c.removeprefix("proba_") for c in predictions.columns if c.startswith("proba_")]
    if not labels:
        raise BadInputError("the run's predictions have no probability columns", fix="audit the run again")
    return labels


def _reference_texts(store, record, project) -> tuple[list[str], list[str]]:
    """(training texts, held-out texts) of the run: its scrubbed (or raw) training table split by splits.parquet."""
    import pandas as pd

    from audit.core.data import ROW_ID, TEXT, join_text, read_table
    from audit.stage import SPLITS_FILE

    if record.scrub is not None and "scrub" in record.stages:
        from audit.record.store import scrubbed_table_path

        path = scrubbed_table_path(store, record, "train")
    elif project.data.train is not None:
        path = Path(project.data.train.path)
    else:
        raise BadInputError("the run has no training table to compare text with", fix="set monitor.text_column: null")
    frame = read_table(path)
    texts = frame[TEXT] if TEXT in frame else join_text(frame, project.data.text_columns)
    ids = (frame[ROW_ID] if ROW_ID in frame else frame[project.data.id_column] if project.data.id_column
           else pd.Series(range(len(frame)))).astype(str)
    splits_path = store.artifact(record.run_id, SPLITS_FILE)
    if not splits_path.is_file():
        return texts.tolist(), texts.tolist()
    splits = pd.read_parquet(splits_path)
    splits = splits[splits["source"] == "train"]
    train_ids = set(splits.loc[splits["split"] == "train", "row_id"].astype(str))
    test_ids = set(splits.loc[splits["split"] == "test", "row_id"].astype(str))
    return texts[ids.isin(train_ids)].tolist(), texts[ids.isin(test_ids)].tolist()


@contextmanager
def _pii_detector(enabled: bool) -> Iterator[Callable[[list[str]], list[bool]] | None]:
    """Presidio pattern recognizers through govaudit's scrubber in patterns mode (no NER), or None."""
    if not enabled:
        yield None
        return
    from audit.core.config import ScrubConfig
    from finetune.scrub import Scrubber

    with Scrubber(ScrubConfig(mode="patterns", n_process=1)) as scrubber:
        yield lambda texts: [bool(found) for found in scrubber.find(texts)]


def _tokenize_with(model_dir: Path, max_length: int):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def tokenize(texts: list[str]) -> list[list[int]]:
        return tokenizer(texts, add_special_tokens=False, truncation=True, max_length=max_length)["input_ids"]

    return tokenizer, tokenize


def _describer(store, record, project, pii):
    from audit.monitor import TextDescriber

    if record.train is None:
        raise BadInputError(f"run {record.run_id} has no trained model (its tokenizer measures OOV tokens)",
                            fix="monitor a trained run, or set monitor.text_column: null")
    tokenizer, tokenize = _tokenize_with(store.artifact(record.run_id, record.train.model_artifact),
                                         project.model.max_length)
    train_texts, held_texts = _reference_texts(store, record, project)
    describer = TextDescriber.from_training(tokenize, train_texts, len(tokenizer), unk_id=tokenizer.unk_token_id,
                                            pii=pii)
    return describer, held_texts


def actor_describer(model_dir: str, max_length: int, seen, unk_id: int | None, pii: bool):
    """A Ray ingest actor's describer: the run's tokenizer, the training vocabulary `seen`, and (with `pii`) its own
    patterns-mode scrubber, open for the actor's lifetime."""
    from audit.monitor import TextDescriber

    _, tokenize = _tokenize_with(Path(model_dir), max_length)
    detector = _pii_detector(pii).__enter__()
    return TextDescriber(tokenize, seen, unk_id, detector)


def encoder(model_dir: str, max_length: int, device: str | None) -> Callable[[list[str]], object]:
    """The run model's own encoder: the mean of its last hidden states over the (non-padding) tokens. Module-level,
    so a Ray ingest actor builds its own from a `functools.partial`."""
    import numpy as np
    import torch

    from audit.core.model_io import load_classifier

    classifier = load_classifier(Path(model_dir), device)

    def embed(texts: list[str]):
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), 64):
                enc = classifier.tokenizer(texts[start:start + 64], padding=True, truncation=True,
                                           max_length=max_length, return_tensors="pt").to(classifier.device)
                hidden = classifier.model.base_model(**enc).last_hidden_state.float()
                mask = enc["attention_mask"].unsqueeze(-1).float()
                out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1), np.float32)

    return embed


def _child(store, parent):
    from audit.record import RunRecord

    child_id = child_run_id(parent.run_id)
    if store.exists(child_id):
        return store.load(child_id)
    return RunRecord(run_id=child_id, name=f"{parent.name} (monitoring)", parent_run_id=parent.run_id,
                     command=["govaudit", *sys.argv[1:]], config=parent.config, config_sha256=parent.config_sha256,
                     model_card=parent.model_card)


def monitor_run(store, run_id: str, logs: list[Path], *, window: str | None = None, policy: str | None = None,
                config: Path | None = None, pii: bool = True, embeddings: int = 0, device: str | None = None,
                engine_overrides: list[str] | None = None):
    """Ingest `logs` into the child run's windows and judge them; returns (child record, exit code).

    `engine_overrides` (`engine.kind=ray`, ...) choose where the logs are ingested (docs/scale.md)."""
    import functools

    import numpy as np
    import pandas as pd

    from audit.core.config import config_from_mapping, load_config
    from audit.core.io import sha256_file
    from audit.fairness import resolve_outcomes
    from audit.monitor import (REFERENCE_FILE, load_sample, sample_path, save_sample, LogSchema, Reference, load_monitor_policy, load_reference,
                               monitoring_section, parse_window, reference_stats, save_reference, save_state,
                               update_windows)
    from audit.record.store import finish_stage
    from audit.stage import PREDICTIONS_FILE

    parent = store.load(run_id)
    predictions_path = store.artifact(run_id, PREDICTIONS_FILE)
    if "audit" not in parent.stages or not predictions_path.is_file():
        raise BadInputError(f"run {run_id} has no audit predictions to compare with",
                            fix=f"run `govaudit audit --run {run_id}` first")
    project = (load_config(config, overrides=engine_overrides) if config else
               config_from_mapping(parent.config, source=f"run {run_id} config", overrides=engine_overrides))
    mapping = project.monitor
    spec = parse_window(window or mapping.window)
    loaded = load_monitor_policy(policy or mapping.policy)
    predictions = pd.read_parquet(predictions_path)
    labels = _labels(predictions)
    favorable = resolve_outcomes(labels, project.fairness)[0].classes
    sensitive = mapping.sensitive_features or {f: f for f in project.data.sensitive_features}
    missing = sorted(set(sensitive) - {c.removeprefix("sf_") for c in predictions.columns if c.startswith("sf_")})
    if missing:
        raise BadInputError(f"sensitive feature(s) {missing} are not in the run's audit predictions",
                            where="monitor.sensitive_features", fix="map only features the run was audited for")
    schema = LogSchema(mapping, labels, favorable, sensitive, project.data.unknown_group)
    child = _child(store, parent)
    child_dir = store.run_dir(child.run_id)
    reference = load_reference(child_dir / REFERENCE_FILE)
    source_sha = sha256_file(predictions_path)
    if reference is not None and reference.source_sha256 != source_sha:
        raise BadInputError(f"run {run_id} was re-audited since monitoring started (predictions changed)",
                            where=str(child_dir / REFERENCE_FILE), fix=f"delete {child_dir} to start monitoring anew")
    with _pii_detector(pii and mapping.text_column is not None) as detector:
        describer = None
        if mapping.text_column:
            describer, held_texts = _describer(store, parent, project, detector)
        seen = None if describer is None else np.flatnonzero(describer.seen)
        if reference is None:
            texts = held_texts if describer is not None else None
            reference = Reference(reference_stats(predictions, schema, texts=texts, describer=describer), source_sha,
                                  seen, len(texts or []))
        elif seen is not None and reference.seen_token_ids is not None and not np.array_equal(seen, reference.seen_token_ids):
            raise BadInputError("the run's training texts changed since monitoring started (other vocabulary)",
                                where=str(child_dir / REFERENCE_FILE), fix=f"delete {child_dir} to start monitoring anew")
        embed = ref_embeddings = None
        if embeddings:
            if describer is None:
                raise BadInputError("--embeddings needs the log text", where="monitor.text_column",
                                    fix="map monitor.text_column, or drop --embeddings")
            embed = encoder(str(store.artifact(parent.run_id, parent.train.model_artifact)), project.model.max_length,
                            device)
            ref_embeddings = load_sample(sample_path(child_dir, "reference"))
            if ref_embeddings is None:
                ref_embeddings = embed(held_texts[:embeddings])
        factory = embed_factory = None
        if describer is not None and project.engine.kind == "ray":
            model_dir = str(store.artifact(parent.run_id, parent.train.model_artifact))
            factory = functools.partial(actor_describer, model_dir, project.model.max_length, describer.seen,
                                        describer.unk_id, detector is not None)
            if embed is not None:
                embed_factory = functools.partial(encoder, model_dir, project.model.max_length, device)
        ingested = update_windows(child_dir, logs, schema, spec, describer=describer, embed=embed,
                                  embed_sample=embeddings, save=False, engine=project.engine,
                                  describer_factory=factory, embed_factory=embed_factory)
    section = monitoring_section(ingested, reference, spec, schema, loaded, run_dir=child_dir,
                                 reference_embeddings=ref_embeddings)
    if not store.exists(child.run_id):
        store.create(child)
    save_reference(child_dir / REFERENCE_FILE, reference)
    if ref_embeddings is not None:
        save_sample(sample_path(child_dir, "reference"), ref_embeddings)
    for index, sample in ingested.samples.items():
        save_sample(sample_path(child_dir, index), sample)
    if ingested.new_logs:
        save_state(child_dir / section.stats_artifact, ingested.state)
    child.monitoring = section
    finish_stage(store, child, "monitor")
    code = int(ExitCode.POLICY_FAILED) if section.status == "alert" else int(ExitCode.OK)
    return child, code


def register(app: typer.Typer) -> None:
    @app.command("monitor")
    def monitor(
        run: Annotated[str, typer.Option("--run", help="The audited run whose held-out predictions are the reference.")],
        log: Annotated[list[Path], typer.Option("--log", help="Prediction log(s): CSV, JSONL or Parquet (repeatable).")],
        window: Annotated[str | None, typer.Option("--window", help="7d, 24h or 1000rows (default: monitor.window).")] = None,
        policy: Annotated[str | None, typer.Option("--policy", "-p", help="Monitoring policy YAML (default: the shipped "
                                                                          "one, audit/data/monitor/default.yaml).")] = None,
        config: Annotated[Path | None, typer.Option("--config", "-c", help="Config with the monitor: column mapping "
                                                                           "(default: the run's own config).")] = None,
        no_pii: Annotated[bool, typer.Option("--no-pii", help="Skip the PII-rate scan of logged texts.")] = False,
        embeddings: Annotated[int, typer.Option("--embeddings", min=0, help="Embed the first N texts of each window "
                                                                            "with the model's encoder for the MMD "
                                                                            "drift test (0: off).")] = 0,
        device: Annotated[str | None, typer.Option("--device", help="--embeddings: cpu or cuda.")] = None,
        engine: EngineOpt = None,
        ray_address: RayAddressOpt = None,
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        junit: OutOpt = None,
        markdown: OutOpt = None,
        json_out: Annotated[Path | None, typer.Option("--json-out", help="Also write the JSON result to PATH.")] = None,
    ) -> None:
        """Compare production prediction logs, window by window, with the run's reference: exit 0 ok, 1 alert, 2 bad input.

        New logs add windows (logs already ingested are skipped by their SHA-256); text is described in memory and
        never stored. Results: child run RUN.monitor (section `monitoring`), optional JUnit XML, Markdown, JSON.
        """
        from audit.monitor import junit_xml, markdown_summary, summary_lines

        store = open_store(runs_root, db_url)
        child, code = monitor_run(store, run, list(log), window=window, policy=policy, config=config, pii=not no_pii,
                                  embeddings=embeddings, device=device,
                                  engine_overrides=engine_overrides(None, engine, ray_address))
        section = child.monitoring
        payload = {"run_id": child.run_id, "parent_run_id": run, "exit_code": code,
                   **json.loads(section.model_dump_json(exclude={"windows"})),
                   "windows": [{"key": w.key, "n": w.n, "small": w.small, "metrics": w.metrics} for w in section.windows]}
        if junit:
            atomic_write_text(junit, junit_xml(section, child.run_id))
        if markdown:
            atomic_write_text(markdown, markdown_summary(section, child.run_id))
        if json_out:
            atomic_write_text(json_out, json.dumps(payload, indent=2) + "\n")
        if json_mode():
            typer.echo(json.dumps(payload, indent=2))
        else:
            typer.echo("\n".join(summary_lines(section, child.run_id)))
        if code == ExitCode.POLICY_FAILED:
            raise PolicyFailed(f"run {run}: active monitoring alert(s)", fix="see the ALERT lines above")
