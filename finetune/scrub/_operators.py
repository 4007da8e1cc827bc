"""Replacement operators (presidio-anonymizer OperatorConfig) and the keyed pseudonym function."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import partial
from typing import TYPE_CHECKING

from audit.core.config import ScrubConfig

if TYPE_CHECKING:
    from presidio_anonymizer.entities import OperatorConfig

__all__ = ["pseudonym", "pseudonym_key", "build_operators"]

_MIN_KEY_BYTES = 16


def pseudonym_key(env_var: str) -> tuple[bytes, str]:
    """The HMAC key and where it came from: the env var if set, else a random key that lives only in this run."""
    value = os.environ.get(env_var, "")
    if value:
        key = value.encode("utf-8")
        if len(key) < _MIN_KEY_BYTES:
            from audit.core.errors import BadInputError

            raise BadInputError(f"pseudonym key in ${env_var} is shorter than {_MIN_KEY_BYTES} bytes",
                                where="scrub.pseudonym_key_env", fix="use e.g. `openssl rand -hex 32`")
        return key, f"env:{env_var}"
    return secrets.token_bytes(32), "ephemeral (random per run, not stored)"


def pseudonym(key: bytes, entity: str, value: str) -> str:
    """`<ENTITY_xxxxxxxx>`: same value and key -> same token; the value cannot be recovered without the key."""
    digest = hmac.new(key, f"{entity}\x1f{value}".encode("utf-8"), hashlib.sha256).hexdigest()[:8]
    return f"<{entity}_{digest}>"


def build_operators(config: ScrubConfig, entities: list[str], key: bytes | None) -> dict[str, OperatorConfig]:
    """One OperatorConfig per entity type (placeholders and pseudonyms carry the type)."""
    from presidio_anonymizer.entities import OperatorConfig

    def one(entity: str) -> OperatorConfig:
        if config.operator == "placeholder":
            return OperatorConfig("replace", {"new_value": f"<{entity}>"})
        if config.operator == "pseudonym":
            assert key is not None
            return OperatorConfig("custom", {"lambda": partial(pseudonym, key, entity)})
        if config.operator == "mask":
            return OperatorConfig("mask", {"masking_char": config.mask_char, "from_end": config.mask_from_end,
                                           "chars_to_mask": config.mask_chars or 1_000_000})
        return OperatorConfig("redact", {})

    operators = {entity: one(entity) for entity in entities}
    operators["DEFAULT"] = one("PII")
    return operators
