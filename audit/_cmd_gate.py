"""`govaudit gate RUN --policy FILE`: evaluate a policy on a run record; exit 0 pass, 1 blocked, 2 bad input."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._cli_common import DbUrlOpt, RunsRootOpt, json_mode, open_store
from ._console import warn
from ._errors import ExitCode, PolicyFailed
from ._io import atomic_write_text

__all__ = ["register", "gate_run"]

PolicyOpt = Annotated[str | None, typer.Option(
    "--policy", "-p", help="Policy YAML, or a shipped policy: default, strict, lenient (default: default).")]
OutOpt = Annotated[Path | None, typer.Option(help="Also write this output to PATH.")]


def gate_run(store, run_id: str, policy: str | None, *, junit: Path | None = None, markdown: Path | None = None,
             json_out: Path | None = None) -> int:
    """Evaluate, save record.policy, write the CI outputs, print the summary; return the exit code (0 or 1)."""
    import json

    from .policy import (evaluate_policy, json_payload, junit_xml, load_policy, markdown_summary, summary_lines)
    from .signoff import SignoffLedger

    loaded = load_policy(policy)
    record = store.load(run_id)
    section = evaluate_policy(record, loaded, signoff=SignoffLedger(store))
    record.policy = section
    store.save(record)
    code = int(ExitCode.POLICY_FAILED) if section.verdict == "fail" else int(ExitCode.OK)
    payload = json_payload(section, run_id, code)
    if junit:
        atomic_write_text(junit, junit_xml(section, run_id))
    if markdown:
        atomic_write_text(markdown, markdown_summary(section, run_id))
    if json_out:
        atomic_write_text(json_out, json.dumps(payload, indent=2) + "\n")
    for text in section.expired_waivers:
        warn(f"expired waiver ignored: {text}")
    if json_mode():
        typer.echo(json.dumps(payload, indent=2))
    else:
        typer.echo("\n".join(summary_lines(section, run_id)))
    return code


def register(app: typer.Typer) -> None:
    @app.command("gate")
    def gate(
        run_id: Annotated[str, typer.Argument(help="Run id to judge (see `govaudit runs list`).")],
        policy: PolicyOpt = None,
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        junit: OutOpt = None,
        markdown: OutOpt = None,
        json_out: Annotated[Path | None, typer.Option("--json-out", help="Also write the JSON result to PATH.")] = None,
    ) -> None:
        """Judge a run against a policy: exit 0 pass (warnings allowed), 1 blocked by policy, 2 bad input.

        Writes the result into the run record (section `policy`) and optionally JUnit XML, Markdown and JSON files.
        """
        code = gate_run(open_store(runs_root, db_url), run_id, policy, junit=junit, markdown=markdown,
                        json_out=json_out)
        if code == ExitCode.POLICY_FAILED:
            raise PolicyFailed(f"run {run_id} blocked by policy", fix="see the FAIL lines above")
