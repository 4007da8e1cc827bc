"""The reviewer list: who may sign off, with salted scrypt password hashes (no plain passwords are ever stored).

Stored as JSON (default `<runs-root>/reviewers.json`, mode 0600). An entry may also carry an e-mail address: a user
logged in through Streamlit's OIDC `st.login` signs off as that reviewer when the provider reports that address.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit.core.errors import BadInputError
from audit.core.io import atomic_path

from . import utc_now

__all__ = ["Reviewer", "ReviewerList", "hash_password", "check_password", "MIN_PASSWORD_LENGTH", "REVIEWERS_FILE"]

REVIEWERS_FILE = "reviewers.json"
MIN_PASSWORD_LENGTH = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_DUMMY = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (hex), with a fresh 16-byte salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                                   p=int(p), dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


class Reviewer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    email: str | None = None
    password_hash: str | None = Field(None, description="None: this reviewer can only log in through OIDC.")
    added_at: str = Field(default_factory=utc_now)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    reviewers: list[Reviewer] = Field(default_factory=list)


class ReviewerList:
    """Load, change and check the reviewer file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.reviewers = self._load()

    def _load(self) -> list[Reviewer]:
        if not self.path.is_file():
            return []
        try:
            return _File.model_validate_json(self.path.read_bytes()).reviewers
        except (ValidationError, ValueError, OSError) as err:
            raise BadInputError(f"unreadable reviewer list ({type(err).__name__})", where=str(self.path),
                                fix="restore the file or re-create it with `govaudit dashboard add-reviewer`") from None

    def get(self, name: str) -> Reviewer | None:
        return next((r for r in self.reviewers if r.name == name), None)

    def by_email(self, email: str | None) -> Reviewer | None:
        if not email:
            return None
        return next((r for r in self.reviewers if r.email and r.email.lower() == email.lower()), None)

    def add(self, name: str, password: str | None, email: str | None = None) -> Reviewer:
        """Add or replace a reviewer and write the file atomically (mode 0600)."""
        name = name.strip()
        if not name or len(name) > 128 or any(c in name for c in "\r\n\t"):
            raise BadInputError("a reviewer name is 1-128 characters on one line")
        if password is None and not email:
            raise BadInputError("a reviewer needs a password or an OIDC e-mail address")
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise BadInputError(f"password shorter than {MIN_PASSWORD_LENGTH} characters")
        reviewer = Reviewer(name=name, email=email, password_hash=hash_password(password) if password else None)
        self.reviewers = [r for r in self.reviewers if r.name != name] + [reviewer]
        with atomic_path(self.path) as tmp:
            tmp.write_text(_File(reviewers=self.reviewers).model_dump_json(indent=2), encoding="utf-8")
            os.chmod(tmp, 0o600)
        return reviewer

    def authenticate(self, name: str, password: str) -> Reviewer | None:
        """The reviewer if the password matches; the same scrypt work is done for unknown names."""
        reviewer = self.get(name)
        encoded = reviewer.password_hash if reviewer and reviewer.password_hash else _DUMMY
        ok = check_password(password, encoded)
        return reviewer if ok and reviewer is not None and reviewer.password_hash else None
