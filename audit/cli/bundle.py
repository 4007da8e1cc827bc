"""`govaudit bundle verify BUNDLE`: check a signed audit bundle (exit 0 intact, 2 tampered or unreadable)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit.core.errors import BadInputError, ExitCode

from ._options import output

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    bundle = typer.Typer(help="Signed audit bundles (`govaudit report RUN --bundle out.zip` writes one).",
                         no_args_is_help=True)

    @bundle.command("verify")
    def verify(
        path: Annotated[Path, typer.Argument(help="The bundle zip.")],
        key: Annotated[Path | None, typer.Option("--key", help="Trusted public key (PEM), e.g. a copy of "
                                                 "<runs-root>/bundle-key.pub.")] = None,
        runs_root: Annotated[Path | None, typer.Option("--runs-root", help="Trust this run store's public key.")] = None,
    ) -> None:
        """Every file must match the manifest's SHA-256 and the manifest its Ed25519 signature."""
        from audit.record.bundle import public_key, verify_bundle

        trusted = None
        if key is not None or runs_root is not None:
            source = key if key is not None else runs_root
            trusted = public_key(source)  # type: ignore[arg-type]
            if trusted is None:
                raise BadInputError("no public key found", where=str(source),
                                    fix="pass the PEM file or the runs root holding bundle-key.pub")
        check = verify_bundle(path, trusted=trusted)
        lines = [f"bundle {path}: {'OK' if check.ok else 'TAMPERED'} (run {check.run_id or '?'}, "
                 f"{len(check.files)} files, key {check.key_id or '?'})"]
        lines += [f"  problem: {p}" for p in check.problems] + [f"  warning: {w}" for w in check.warnings]
        output({"path": str(path), "ok": check.ok, "run_id": check.run_id, "key_id": check.key_id,
                "files": check.files, "problems": check.problems, "warnings": check.warnings}, "\n".join(lines))
        if not check.ok:
            raise typer.Exit(int(ExitCode.BAD_INPUT))

    app.add_typer(bundle, name="bundle")
