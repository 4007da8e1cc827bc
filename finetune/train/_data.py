"""Training data: the scrubbed table of the run (fingerprint checked), stratified splits, tokenisation, batching."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.core.config import DataConfig, ProjectConfig, SplitConfig
from audit.core.data import LABEL, ROW_ID, TEXT, ValidatedTable, read_table, table_sha256, validate_table
from audit.core.errors import BadInputError
from audit.core.io import atomic_path, sha256_file
from audit.core.token_io import IGNORE
from audit.record import RunRecord, fingerprint
from audit.record.store import RunStore, scrubbed_table_path

__all__ = ["SPLITS_FILE", "SPLIT_NAMES", "TrainingData", "check_scrubbed", "load_training_data", "make_splits",
           "write_splits", "encode", "length_grouped_batches", "Collator", "IGNORE"]

SPLITS_FILE = "splits.parquet"
SPLIT_NAMES = ("train", "validation", "test")


@dataclass
class TrainingData:
    table: ValidatedTable
    eval_table: ValidatedTable | None
    scrubbed: bool
    source_path: Path


def check_scrubbed(store: RunStore, record: RunRecord, role: str = "train") -> tuple[Path | None, str]:
    """The run's scrubbed `role` table if it passed and its file and table fingerprints match the record.

    Returns (path, "") or (None, why not). Built on the store's lookup of the scrub stage's output (`scrubbed_table_path`).
    """
    try:
        path = scrubbed_table_path(store, record, role)
    except BadInputError as err:
        return None, err.message
    table = record.scrub.tables[role]  # type: ignore[union-attr]
    if not path.is_file():
        return None, f"the scrubbed table {table.output_artifact} of run {record.run_id} is missing"
    if sha256_file(path) != table.output.file_sha256:
        return None, f"the scrubbed table {table.output_artifact} does not match its scrub record (file SHA-256 differs)"
    if table_sha256(read_table(path)) != table.output.table_sha256:
        return None, f"the scrubbed table {table.output_artifact} does not match its scrub record (table SHA-256 differs)"
    return path, ""


def _mapping_for(frame: pd.DataFrame, mapping: DataConfig) -> DataConfig:
    """The project's column mapping, or the canonical one (row_id/text/label) if the table was canonicalised."""
    wanted = [*mapping.text_columns, mapping.label_column, *([mapping.id_column] if mapping.id_column else [])]
    if all(c in frame.columns for c in wanted) or not {ROW_ID, TEXT, LABEL} <= set(frame.columns):
        return mapping
    return mapping.model_copy(update={"text_columns": [TEXT], "label_column": LABEL, "id_column": ROW_ID})


def _validated(path: Path, mapping: DataConfig, role: str, known_labels: list[str] | None = None) -> ValidatedTable:
    frame = read_table(path)
    table = validate_table(frame, _mapping_for(frame, mapping), where=str(path), role=role, known_labels=known_labels)
    table.fingerprint = fingerprint(path, frame, role=role)
    return table


def load_training_data(project: ProjectConfig, scrubbed_path: Path | None,
                       scrubbed_eval: Path | None = None) -> TrainingData:
    """Validated train table (scrubbed if given, else the raw `data.train`) and the optional eval table."""
    if scrubbed_path is not None:
        path, role = scrubbed_path, "scrubbed"
    elif project.data.train is not None:
        path, role = Path(project.data.train.path), "train"
    else:
        raise BadInputError("no training data", where="data.train", fix="set data.train in the config")
    table = _validated(path, project.data, role)
    if len(table.labels) < 2:
        raise BadInputError(f"label column has a single class ({table.labels})", where=str(path),
                            fix="a classifier needs at least two classes")
    eval_table = None
    if project.data.eval is not None:
        eval_path = scrubbed_eval or Path(project.data.eval.path)
        eval_table = _validated(eval_path, project.data, "eval", known_labels=table.labels)
    return TrainingData(table=table, eval_table=eval_table, scrubbed=scrubbed_path is not None, source_path=path)


def make_splits(labels: np.ndarray, split: SplitConfig, *, has_eval: bool, min_rows_per_class: int) -> np.ndarray:
    """Stratified split names per row: train/validation/test, or train/validation when a separate eval set is the test."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    names, counts = np.unique(labels, return_counts=True)
    need = max(min_rows_per_class, 2 if has_eval else 3)
    short = [f"{name!r} ({count})" for name, count in zip(names, counts) if count < need]
    if short:
        raise BadInputError(f"too few rows per class for the split: {', '.join(short[:10])}; each class needs >= {need}",
                            where="data.train", fix="add rows, merge rare classes, or lower train.min_rows_per_class")
    index = np.arange(len(labels))
    out = np.full(len(labels), "train", dtype=object)
    try:
        rest = index
        if not has_eval:
            rest, test = train_test_split(index, test_size=split.test_size, stratify=labels, random_state=split.seed)
            out[test] = "test"
        val_share = split.validation_size if has_eval else split.validation_size / (1 - split.test_size)
        _, val = train_test_split(rest, test_size=val_share, stratify=labels[rest], random_state=split.seed)
        out[val] = "validation"
    except ValueError as err:
        raise BadInputError(f"too few rows per class for a stratified split ({err})", where="split",
                            fix="add rows or raise split.validation_size / split.test_size") from None
    return out


def write_splits(path: Path, row_ids: list[str], splits: list[str], sources: list[str]) -> None:
    """`splits.parquet`: row_id (string), split (train/validation/test), source (train or eval: the table of the id)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"row_id": pa.array(row_ids, pa.string()), "split": pa.array(splits, pa.string()),
                      "source": pa.array(sources, pa.string())})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def encode(tokenizer: Any, texts: list[str], max_length: int) -> list[list[int]]:
    """Token ids per text, truncated to `max_length`, unpadded (padding happens per batch)."""
    return tokenizer(texts, truncation=True, max_length=max_length, padding=False, return_attention_mask=False,
                     return_token_type_ids=False)["input_ids"]


def length_grouped_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int,
                           mega: int | None = None) -> list[np.ndarray]:
    """Shuffled batches of similar length: shuffle, sort within mega-batches of `mega` batches, shuffle the batches.

    `mega` defaults to Trainer's rule (`get_length_grouped_indices`): min(50, rows // (4 * batch_size)), at least 1,
    so a small table is cut into >= 4 mega-batches instead of being sorted whole (which makes every batch one narrow
    length band, and on data where length follows the class, fewer classes per batch). A pure function of
    (seed, epoch), so a resumed run replays the same order. The longest batch comes first so that an out-of-memory
    error shows at step 1, not hours in.
    """
    if mega is None:
        mega = max(1, min(50, len(lengths) // (4 * batch_size)))
    rng = np.random.default_rng([seed, epoch])
    perm = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    for start in range(0, len(perm), batch_size * mega):
        chunk = perm[start : start + batch_size * mega]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    batches = [batches[i] for i in rng.permutation(len(batches))]
    longest = int(np.argmax([lengths[b].max() for b in batches]))
    batches[0], batches[longest] = batches[longest], batches[0]
    return batches


class Collator:
    """Pads a batch of row indices to its own longest sequence (dynamic padding); per-token targets pad with -100."""

    def __init__(self, ids: list[list[int]], targets: np.ndarray | list[list[int]] | None, pad_id: int) -> None:
        self.ids, self.targets, self.pad_id = ids, targets, pad_id

    def __call__(self, rows: list[int]) -> dict[str, Any]:
        import torch

        seqs = [self.ids[i] for i in rows]
        width = max(len(s) for s in seqs)
        input_ids = np.full((len(seqs), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for j, seq in enumerate(seqs):
            input_ids[j, : len(seq)] = seq
            mask[j, : len(seq)] = 1
        batch = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
        if isinstance(self.targets, list):
            labels = np.full((len(seqs), width), IGNORE, dtype=np.int64)
            for j, row in enumerate(rows):
                labels[j, : len(self.targets[row])] = self.targets[row]
            batch["labels"] = torch.from_numpy(labels)
        elif self.targets is not None:
            batch["labels"] = torch.from_numpy(self.targets[rows])
        return batch
