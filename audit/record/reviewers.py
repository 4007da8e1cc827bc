"""The reviewer list: who may sign off, with salted scrypt password hashes (no plain passwords are ever stored).

Stored as JSON (default `<runs-root>/reviewers.json`, mode 0600). An entry may also carry an e-mail address: a user
logged in through Streamlit's OIDC `st.login` signs off as that reviewer when the provider reports that address.

Beside it, `reviewers.audit.jsonl` is an append-only, hash-chained log of log-ins, failed log-ins and reviewer changes
(added, password reset, disabled). The lockout is computed from that log, on the server: after `MAX_FAILURES`
consecutive failed log-ins for a name, that name is locked for 30 s, doubling with each further failure (at most
an hour), whatever browser session or command tries next.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit.core.errors import BadInputError
from audit.core.io import atomic_path

from . import utc_now

__all__ = [
    "MAX_FAILURES",
    "MIN_PASSWORD_LENGTH",
    "REVIEWERS_FILE",
    "Reviewer",
    "ReviewerList",
    "check_password",
    "check_password_policy",
    "hash_password",
]

REVIEWERS_FILE = "reviewers.json"
MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT_CHARACTERS = 6
MAX_FAILURES = 5
_BACKOFF = timedelta(seconds=30)
_MAX_LOCK = timedelta(hours=1)
_GENESIS = "0" * 64
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


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("audit").joinpath("data", "passwords", "common.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_policy(password: str, name: str = "") -> None:
    """Refuse short, repetitive, common or name-based passwords (BadInputError saying which rule; never the password)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInputError(f"password shorter than {MIN_PASSWORD_LENGTH} characters",
                            fix="use a passphrase of several words")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise BadInputError(f"password has fewer than {MIN_DISTINCT_CHARACTERS} different characters",
                            fix="use a passphrase of several words")
    lowered = password.lower()
    stem = re.sub(r"[\d\W_]+$", "", lowered)
    common = _common_passwords()
    if lowered in common or stem in common or re.sub(r"\s+", "", lowered) in common:
        raise BadInputError("password is on the list of common passwords", fix="choose a less guessable passphrase")
    if name and len(name) >= 3 and name.lower() in lowered:
        raise BadInputError("password contains the reviewer's name", fix="choose a passphrase without it")


class Reviewer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    email: str | None = None
    password_hash: str | None = Field(None, description="None: this reviewer can only log in through OIDC.")
    added_at: str = Field(default_factory=utc_now)
    disabled: bool = Field(False, description="A disabled reviewer can neither log in nor sign off.")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    reviewers: list[Reviewer] = Field(default_factory=list)


class ReviewerList:
    """Load, change and check the reviewer file; every log-in attempt and change goes to the audit log."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.log_path = self.path.with_name(self.path.stem + ".audit.jsonl")
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
        """An enabled reviewer by name (a disabled one is treated as absent)."""
        return next((r for r in self.reviewers if r.name == name and not r.disabled), None)

    def by_email(self, email: str | None) -> Reviewer | None:
        if not email:
            return None
        return next((r for r in self.reviewers if r.email and r.email.lower() == email.lower() and not r.disabled),
                    None)

    def add(self, name: str, password: str | None, email: str | None = None, *, reset: bool = False,
            actor: str = "cli") -> Reviewer:
        """Add a reviewer (or, with `reset`, replace an existing one's password / e-mail) and write the file
        atomically (mode 0600). Refuses to overwrite an existing reviewer without `reset`."""
        name = name.strip()
        if not name or len(name) > 128 or any(c in name for c in "\r\n\t"):
            raise BadInputError("a reviewer name is 1-128 characters on one line")
        if password is None and not email:
            raise BadInputError("a reviewer needs a password or an OIDC e-mail address")
        existing = next((r for r in self.reviewers if r.name == name), None)
        if existing is not None and not reset:
            raise BadInputError(f"reviewer {name!r} already exists; nothing was changed",
                                fix="pass --reset to replace their password (logged), or choose another name")
        if password is not None:
            check_password_policy(password, name)
        reviewer = Reviewer(name=name, email=email, password_hash=hash_password(password) if password else None)
        self.reviewers = [r for r in self.reviewers if r.name != name] + [reviewer]
        self._save()
        self.log("password_reset" if existing is not None else "reviewer_added", name, actor)
        return reviewer

    def disable(self, name: str, actor: str = "cli") -> None:
        reviewer = next((r for r in self.reviewers if r.name == name), None)
        if reviewer is None:
            raise BadInputError(f"no reviewer {name!r}", fix="see `govaudit dashboard reviewers`")
        reviewer.disabled = True
        self._save()
        self.log("reviewer_disabled", name, actor)

    def _save(self) -> None:
        with atomic_path(self.path) as tmp:
            tmp.write_text(_File(reviewers=self.reviewers).model_dump_json(indent=2), encoding="utf-8")
            os.chmod(tmp, 0o600)

    def authenticate(self, name: str, password: str, source: str = "dashboard") -> Reviewer | None:
        """The reviewer if the password matches and the name is not locked out; the same scrypt work is done for
        unknown names. Every attempt is logged; a locked name is refused without checking the password."""
        if self.locked_until(name) is not None:
            self.log("login_refused_locked", name, source)
            return None
        reviewer = self.get(name)
        encoded = reviewer.password_hash if reviewer and reviewer.password_hash else _DUMMY
        ok = check_password(password, encoded) and reviewer is not None and reviewer.password_hash is not None
        self.log("login" if ok else "login_failed", name, source)
        return reviewer if ok else None

    def locked_until(self, name: str, now: datetime | None = None) -> datetime | None:
        """When the lockout of `name` ends (None: not locked), from the consecutive failures in the audit log."""
        failures: list[datetime] = []
        for event in self.events():
            if event.get("reviewer") != name:
                continue
            if event["event"] in ("login", "password_reset", "reviewer_added"):
                failures = []
            elif event["event"] == "login_failed":
                failures.append(datetime.fromisoformat(event["at"]))
        if len(failures) < MAX_FAILURES:
            return None
        until = failures[-1] + min(_BACKOFF * 2 ** (len(failures) - MAX_FAILURES), _MAX_LOCK)
        return until if until > (now or datetime.now(UTC)) else None

    def log(self, event: str, reviewer: str, source: str) -> None:
        """Append one hash-chained line to the audit log (never a password)."""
        with self._log_lock():
            events = self.events()
            entry = {"at": datetime.now(UTC).isoformat(timespec="microseconds"), "event": event,
                     "reviewer": reviewer[:128], "source": source, "prev": events[-1]["hash"] if events else _GENESIS}
            entry["hash"] = _event_hash(entry)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            fd = os.open(self.log_path, flags, 0o600)
            try:
                os.write(fd, (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)

    def events(self) -> list[dict]:
        if not self.log_path.is_file():
            return []
        return [json.loads(line) for line in self.log_path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def verify_log(self) -> list[str]:
        """Problems in the audit log's hash chain (edited, deleted or reordered lines)."""
        problems, prev = [], _GENESIS
        for number, event in enumerate(self.events(), start=1):
            if event.get("prev") != prev or _event_hash(event) != event.get("hash"):
                problems.append(f"audit log line {number} was edited, deleted or reordered")
            prev = event.get("hash")
        return problems

    @contextlib.contextmanager
    def _log_lock(self) -> Iterator[None]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path.with_name(f".{self.log_path.name}.lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _event_hash(event: dict) -> str:
    fields = [event.get(k) for k in ("at", "event", "reviewer", "source", "prev")]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()
