"""Signed audit bundles: one zip with a run's evidence files, a manifest of their SHA-256s and an Ed25519 signature
of the manifest made with the run store's key.

    key = store_key(store.root)                       # generated once: <runs-root>/bundle-key.pem (0600) + .pub
    write_bundle("out.zip", {"record.json": b"..."}, run_id="...", key=key)
    check = verify_bundle("out.zip", trusted=public_key(store.root))
    check.ok, check.problems, check.key_id

A changed, added or missing file breaks its manifest hash; a changed manifest breaks the signature; a bundle re-signed
with another key is caught when the verifier pins the store's public key (`trusted`).
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.core.errors import BadInputError
from audit.core.io import atomic_path

__all__ = ["BUNDLE_FORMAT", "MANIFEST", "SIGNATURE", "KEY_FILE", "PUBLIC_KEY_FILE", "BundleCheck", "store_key",
           "public_key", "key_id", "write_bundle", "verify_bundle"]

BUNDLE_FORMAT = "govaudit-bundle/1"
MANIFEST, SIGNATURE = "manifest.json", "signature.json"
KEY_FILE, PUBLIC_KEY_FILE = "bundle-key.pem", "bundle-key.pub"


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(_raw(key)).hexdigest()[:16]


def store_key(root: str | Path) -> Ed25519PrivateKey:
    """The run store's signing key, created on first use (private key file mode 0600, public key beside it)."""
    root = Path(root)
    path = root / KEY_FILE
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise BadInputError("the bundle signing key is readable by other users", where=str(path),
                                fix=f"chmod 600 {path}")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise BadInputError("the bundle signing key is not an Ed25519 key", where=str(path),
                                fix="move it away; a new key is made on the next `govaudit report --bundle`")
        return key
    key = Ed25519PrivateKey.generate()
    root.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    (root / PUBLIC_KEY_FILE).write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                       serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


def public_key(source: str | Path) -> Ed25519PublicKey | None:
    """A public key from a PEM file, or the store's (`<root>/bundle-key.pub`) when `source` is a folder; None if absent."""
    path = Path(source)
    path = path / PUBLIC_KEY_FILE if path.is_dir() else path
    if not path.is_file():
        return None
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise BadInputError("not an Ed25519 public key", where=str(path), fix="pass the store's bundle-key.pub")
    return key


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_bundle(path: str | Path, files: dict[str, bytes], *, run_id: str, created_at: str,
                 key: Ed25519PrivateKey) -> dict[str, object]:
    """Write the zip atomically: the files, manifest.json (name -> sha256, bytes) and signature.json. Returns the
    manifest."""
    bad = [name for name in files if name in (MANIFEST, SIGNATURE) or "/" in name or name.startswith(".")]
    if bad:
        raise ValueError(f"reserved or nested bundle file names: {bad}")
    manifest = {"format": BUNDLE_FORMAT, "run_id": run_id, "created_at": created_at,
                "files": {name: {"sha256": _sha(data), "bytes": len(data)} for name, data in sorted(files.items())}}
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    signature = {"algorithm": "Ed25519", "key_id": key_id(key.public_key()), "signed": MANIFEST,
                 "public_key": base64.b64encode(_raw(key.public_key())).decode("ascii"),
                 "signature": base64.b64encode(key.sign(manifest_bytes)).decode("ascii")}
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(SIGNATURE, json.dumps(signature, indent=2, sort_keys=True))
    return manifest


@dataclass
class BundleCheck:
    """Result of `verify_bundle`: `ok` when every file matches the manifest and the signature holds."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    key_id: str | None = None
    run_id: str | None = None
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _signature(archive: zipfile.ZipFile, manifest_bytes: bytes, check: BundleCheck,
               trusted: Ed25519PublicKey | None) -> None:
    try:
        meta = json.loads(archive.read(SIGNATURE))
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(meta["public_key"]))
        key.verify(base64.b64decode(meta["signature"]), manifest_bytes)
    except KeyError:
        check.problems.append(f"{SIGNATURE} is missing or incomplete")
        return
    except (InvalidSignature, ValueError, TypeError):
        check.problems.append(f"the signature does not match {MANIFEST}: the manifest was changed after signing")
        return
    check.key_id = key_id(key)
    if trusted is None:
        check.warnings.append(f"signed by key {check.key_id}; no trusted key given to pin it (--key or --runs-root)")
    elif _raw(trusted) != _raw(key):
        check.problems.append(f"signed by key {check.key_id}, not by the trusted key {key_id(trusted)}")


def verify_bundle(path: str | Path, *, trusted: Ed25519PublicKey | None = None) -> BundleCheck:
    """Check every file against the manifest and the manifest against its signature (and `trusted`, if given)."""
    check = BundleCheck()
    try:
        archive = zipfile.ZipFile(io.BytesIO(Path(path).read_bytes()))
    except FileNotFoundError:
        raise BadInputError("bundle not found", where=str(path)) from None
    except zipfile.BadZipFile:
        check.problems.append("not a zip file")
        return check
    with archive:
        names = archive.namelist()
        if MANIFEST not in names:
            check.problems.append(f"{MANIFEST} is missing")
            return check
        manifest_bytes = archive.read(MANIFEST)
        _signature(archive, manifest_bytes, check, trusted)
        try:
            manifest = json.loads(manifest_bytes)
            listed = dict(manifest["files"])
        except (ValueError, KeyError, TypeError):
            check.problems.append(f"{MANIFEST} is not a govaudit manifest")
            return check
        check.run_id, check.files = manifest.get("run_id"), sorted(listed)
        if len(names) != len(set(names)):
            check.problems.append("the zip holds a file name twice")
        for name in sorted(set(names) - set(listed) - {MANIFEST, SIGNATURE}):
            check.problems.append(f"{name}: not in the manifest (added after signing)")
        for name, entry in sorted(listed.items()):
            if name not in names:
                check.problems.append(f"{name}: listed in the manifest but missing")
            elif _sha(archive.read(name)) != entry.get("sha256"):
                check.problems.append(f"{name}: SHA-256 differs from the manifest (changed after signing)")
    return check
