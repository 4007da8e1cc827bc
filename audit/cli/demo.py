"""`govaudit demo`: the whole pipeline on the bundled CFPB demo data, through the same commands a user runs."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from audit.core.console import info, is_quiet
from audit.core.errors import ExitCode, GovauditError

from ._options import RunsRootOpt, SetOpt

__all__ = ["register", "DEMO_CONFIG"]

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "data" / "demo" / "govaudit.yaml"


def _step(title: str, argv: list[str], quiet: bool) -> int:
    from . import main

    info(f"\n== {title}: govaudit {' '.join(argv)}")
    started = time.perf_counter()
    code = main((["--quiet"] if quiet else []) + argv)
    info(f"== {title}: exit {code} in {time.perf_counter() - started:.0f} s")
    return code


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        runs_root: RunsRootOpt = None,
        set_: SetOpt = None,
        port: Annotated[int, typer.Option(help="Port suggested for the dashboard.")] = 8501,
    ) -> None:
        """Scrub, train, audit, gate and report on the bundled CFPB payday-loan complaints (a few minutes on 2 cores).

        Exit 0 when the pipeline ran, whatever the gate's verdict (it is printed); 2 or 3 when a stage failed.
        """
        from audit.core.config import load_config
        from audit.record.store import RunStore

        root = (runs_root or Path("runs")).resolve()
        overrides = [f"runs.root={root}", *(set_ or [])]
        project = load_config(DEMO_CONFIG, overrides)
        config_args = ["--config", str(DEMO_CONFIG), "--runs-root", str(root)]
        for assignment in overrides[1:]:
            config_args += ["--set", assignment]
        quiet = is_quiet()

        from finetune.scrub import run_scrub_stage

        info(f"== scrub: PII scrubbing of {project.data.train.path.name} with Presidio")
        started = time.perf_counter()
        record = run_scrub_stage(project, RunStore(root, project.runs.database_url))
        run_id = record.run_id
        info(f"== scrub: run {run_id} created in {time.perf_counter() - started:.0f} s")
        steps = [
            ("train", ["train", *config_args, "--run", run_id]),
            ("audit", ["audit", *config_args, "--run", run_id]),
            ("gate", ["gate", run_id, "--runs-root", str(root), "--junit", str(root / run_id / "junit.xml"),
                      "--markdown", str(root / run_id / "gate.md")]),
            ("report", ["report", run_id, "--runs-root", str(root)]),
        ]
        verdict_code = 0
        for title, argv in steps:
            code = _step(title, argv, quiet)
            if title == "gate" and code == ExitCode.POLICY_FAILED:
                verdict_code = code
                continue
            if code != 0:
                raise GovauditError(f"demo stopped: stage {title} exited {code}", fix="see the error above")
        verdict = "BLOCKED by policy (exit 1)" if verdict_code else "passed the policy (exit 0)"
        typer.echo(
            f"\nDemo run {run_id}: the model {verdict}.\n"
            f"  report:    {root / run_id / 'report.html'}\n"
            f"  JUnit:     {root / run_id / 'junit.xml'}\n"
            f"  record:    {root / run_id / 'record.json'}\n"
            f"  dashboard: govaudit dashboard --runs-root {root} --port {port}\n"
            f"             then open http://localhost:{port}/run?run={run_id}\n"
            f"             (add a reviewer first to sign off: govaudit dashboard add-reviewer NAME --runs-root {root})"
        )
