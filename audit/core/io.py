"""Atomic file and directory writes: a reader sees the old content or the new, never half of it.

What is at the target decides how it is written (docs/conventions.md, "Fault model"): a regular file (or nothing)
is replaced atomically; a symlink is followed and the file it points at is replaced (the link stays); a FIFO or a
character device (`/dev/null`, `/dev/stdout`) is written through, as a stream; a directory, socket or block device
is refused with exit 2. A read-only folder or a full disk is exit 2 as well, with the old file left intact.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import BadInputError

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_path", "atomic_dir", "replace_dir", "sha256_file",
           "sha256_bytes", "model_files_sha256", "model_sha256", "write_target", "environment_error", "TMP_SUFFIX"]

TMP_SUFFIX = ".tmp"
_ENV_ERRORS = {errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EROFS: "read-only file system",
               errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}


def write_target(path: str | Path) -> tuple[Path, bool]:
    """Where a write to `path` goes and whether it is a stream: (file to replace, False) or (FIFO/device, True).

    Raises BadInputError (exit 2) for a directory, socket or block device at `path`.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return path, False
    except NotADirectoryError:
        raise BadInputError("a parent of the output path is not a folder", where=str(path),
                            fix="give a path inside an existing folder") from None
    if stat.S_ISREG(mode):
        return path, False
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return path, True
    kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (socket or block device)"
    raise BadInputError(f"output path is {kind}", where=str(path), fix="give a file path, e.g. DIR/report.html")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def environment_error(err: OSError, path: Path | str | None = None) -> BadInputError | None:
    """A read-only folder, missing permission or full disk as exit 2 naming the path; None for other errors."""
    reason = _ENV_ERRORS.get(err.errno or 0)
    if reason is None:
        return None
    return BadInputError(f"cannot write: {reason}", where=str(path or err.filename or "output"),
                         fix="make the folder writable / free disk space, or choose another output path")


@contextlib.contextmanager
def _environment(path: Path) -> Iterator[None]:
    """Turn a read-only folder, missing permission or full disk into exit 2 naming `path`."""
    try:
        yield
    except OSError as err:
        mapped = environment_error(err, path)
        if mapped is None:
            raise
        raise mapped from None


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success fsync and rename it over `path`, else delete it.

    A FIFO or character device at `path` is yielded itself (written through); see the module docstring.
    """
    path, stream = write_target(path)
    if stream:
        with _environment(path):
            yield path
        return
    with _environment(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _environment(path):
            yield tmp
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces `path` whole, on error it is removed."""
    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise BadInputError("output folder path holds a file or symlink", where=str(path), fix="move it away")
    with _environment(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent))
    try:
        with _environment(path):
            yield tmp
            replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(finished: Path, target: Path) -> None:
    """Move a finished folder to `target`, replacing an existing one (moved aside first, then deleted)."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(finished, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(finished, target)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def model_files_sha256(directory: str | Path) -> dict[str, str]:
    """SHA-256 of each file directly in a model directory (weights, config, tokenizer), by name, names sorted."""
    directory = Path(directory)
    return {name: sha256_file(directory / name) for name in sorted(p.name for p in directory.iterdir() if p.is_file())}


def model_sha256(files: dict[str, str]) -> str:
    """One digest of a model directory: SHA-256 over 'name:sha256' of each file in name order (`model_files_sha256`)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}:{files[name]}".encode())
    return digest.hexdigest()
