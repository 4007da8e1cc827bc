"""`govaudit runs list|show|verify` and `govaudit schema`."""
from __future__ import annotations

import json
from typing import Annotated

import typer

from ._options import DbUrlOpt, RunsRootOpt, json_mode, open_store, output

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    runs = typer.Typer(help="List and inspect audit runs in the run store.", no_args_is_help=True)

    @runs.command("list")
    def list_runs(
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
        verdict: Annotated[str | None, typer.Option(help="Only runs with this policy verdict (pass/warn/fail).")] = None,
        limit: Annotated[int | None, typer.Option(help="At most this many runs.")] = None,
        reindex: Annotated[bool, typer.Option(help="Rebuild the index from the records on disk first.")] = False,
    ) -> None:
        """List runs, newest first."""
        store = open_store(runs_root, db_url)
        if reindex:
            store.reindex()
        rows = store.list(status=status, verdict=verdict, limit=limit)
        if json_mode():
            typer.echo(json.dumps(rows, indent=2, default=str))
            return
        if not rows:
            typer.echo(f"no runs in {store.root}")
            return
        from rich.console import Console
        from rich.table import Table

        table = Table("run id", "created", "status", "stages", "model", "verdict")
        for row in rows:
            table.add_row(row["run_id"], row["created_at"], row["status"], row["stages"], row["model"] or "",
                          row["verdict"] or "-")
        Console().print(table)

    @runs.command("show")
    def show_run(
        run_id: Annotated[str, typer.Argument(help="Run id (see `govaudit runs list`).")],
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
    ) -> None:
        """Show one run's record (summary, or the whole record with --json)."""
        store = open_store(runs_root, db_url)
        record = store.load(run_id)
        if json_mode():
            typer.echo(record.to_json())
            return
        lines = [f"run {record.run_id}  ({record.name})", f"  status  {record.status}",
                 f"  created {record.created_at}", f"  stages  {', '.join(record.stages) or '-'}",
                 f"  record  sha256 {store.record_sha256(run_id)}"]
        for fp in record.inputs:
            lines.append(f"  input   {fp.role}: {fp.path} ({fp.rows} rows, sha256 {fp.file_sha256[:12]}…)")
        if record.policy:
            lines.append(f"  verdict {record.policy.verdict}")
        for notice in record.notices:
            lines.append(f"  notice  [{notice.stage}] {notice.message}")
        output(json.loads(record.to_json()), "\n".join(lines))

    @runs.command("verify")
    def verify_run(
        run_id: Annotated[str, typer.Argument(help="Run id (see `govaudit runs list`).")],
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
    ) -> None:
        """Check every artifact the record lists against its SHA-256; exit 2 if one changed or is missing."""
        from audit.core.errors import BadInputError

        store = open_store(runs_root, db_url)
        rows = store.verify_artifacts(run_id)
        bad = [r for r in rows if r["status"] in ("changed", "missing")]
        listed = len(rows) - sum(r["status"] == "unlisted" for r in rows)
        verdict = "all match" if not bad else f"{len(bad)} do NOT match"
        lines = [f"run {run_id}: {listed} artifacts listed, {verdict}"]
        lines += [f"  {r['status'].upper():8} {r['path']}" + (f"  (written by {r['stage']})" if r["stage"] else "")
                  for r in rows if r["status"] != "ok"]
        output({"run_id": run_id, "ok": not bad, "artifacts": rows}, "\n".join(lines))
        if bad:
            raise BadInputError(f"run {run_id}: {len(bad)} artifacts differ from the record: "
                                + ", ".join(f"{r['path']} ({r['status']})" for r in bad),
                                fix="the files were changed after the stage finished (or a rerun was killed); "
                                    "rerun the stage that wrote them")

    app.add_typer(runs, name="runs")

    @app.command("schema")
    def schema(
        which: Annotated[str, typer.Argument(help="config, record or policy.")],
    ) -> None:
        """Print the JSON schema of the project config, the run record or the policy file."""
        from audit.core.config import config_json_schema
        from audit.record import RunRecord

        schemas = {"config": config_json_schema, "record": RunRecord.model_json_schema}
        try:
            from audit.policy import policy_json_schema

            schemas["policy"] = policy_json_schema
        except ImportError:
            pass
        if which not in schemas:
            from audit.core.errors import BadInputError

            raise BadInputError(f"unknown schema {which!r}", fix=f"choose one of {sorted(schemas)}")
        typer.echo(json.dumps(schemas[which](), indent=2))
