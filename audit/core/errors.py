"""Exit codes and the error types that map to them (one place, documented in docs/conventions.md)."""
from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode", "GovauditError", "BadInputError", "PolicyFailed"]


class ExitCode(IntEnum):
    OK = 0
    POLICY_FAILED = 1
    BAD_INPUT = 2
    INTERNAL = 3


class GovauditError(Exception):
    """An error with a one-line cause, a location and a fix; carries the exit code the CLI returns."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.message = message
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [f"{self.where}: {self.message}" if self.where else self.message]
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return " | ".join(parts)


class BadInputError(GovauditError):
    """Bad data, config, policy or usage: exit 2, nothing written."""

    exit_code = ExitCode.BAD_INPUT


class PolicyFailed(GovauditError):
    """A policy check with severity `block` failed: exit 1."""

    exit_code = ExitCode.POLICY_FAILED
