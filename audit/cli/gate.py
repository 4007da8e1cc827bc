"""`govaudit gate RUN --policy FILE`: evaluate a policy on a run record; exit 0 pass, 1 blocked, 2 bad input."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit.core.console import info, warn
from audit.core.errors import BadInputError, ExitCode, PolicyFailed
from audit.core.io import atomic_write_text, write_target
from audit.record.store import begin_run, finish_stage

from .monitor import child_run_id
from ._options import DbUrlOpt, RunsRootOpt, SetOpt, json_mode, open_project, open_store

__all__ = ["register", "gate_run", "run_pipeline"]

PolicyOpt = Annotated[str | None, typer.Option(
    "--policy", "-p", help="Policy YAML, or a shipped policy: default, strict, lenient, employment, lending, "
                           "moderation, routing (default: the preset of the run's fairness.use_case, else default).")]
OutOpt = Annotated[Path | None, typer.Option(help="Also write this output to PATH.")]


def gate_run(store, run_id: str, policy: str | None, *, junit: Path | None = None, markdown: Path | None = None,
             json_out: Path | None = None) -> int:
    """Evaluate, save record.policy, write the CI outputs, print the summary; return the exit code (0 or 1)."""
    import json

    from audit.policy import evaluate_policy, json_payload, junit_xml, load_policy, markdown_summary, summary_lines
    from audit.record.signoff import SignoffLedger

    for target in (junit, markdown, json_out):
        if target is not None:
            write_target(target)  # a directory or socket fails before the record is touched
    record = store.load(run_id)
    if policy is None and record.fairness is not None and record.fairness.use_case != "general":
        policy = f"builtin:{record.fairness.use_case}"  # the config's fairness.use_case names the preset
    loaded = load_policy(policy)
    if not loaded.policy.blocking():
        warn(f"policy {loaded.policy.name!r} has no check with severity block: it cannot fail this run")
    monitor_run = child_run_id(run_id)  # written by `govaudit monitor --run RUN`; read only by the monitoring check
    monitoring = store.load(monitor_run).monitoring if store.exists(monitor_run) else None
    section = evaluate_policy(record, loaded, signoff=SignoffLedger(store), monitoring=monitoring,
                              monitoring_run=monitor_run)
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


def run_pipeline(config: Path, overrides: list[str] | None, runs_root: Path | None, db_url: str | None,
                 device: str | None = None):
    """scrub -> train -> audit in a new run, through the stages' own functions; returns (store, run id, policy)."""
    project, store = open_project(config, overrides, runs_root, db_url)
    from audit.stage import prepare_audit, run_audit
    from finetune.scrub import run_scrub_stage
    from finetune.train import train_run

    record = run_scrub_stage(project, store)
    info(f"run {record.run_id}: scrubbed; training")
    record = begin_run(store, project, record.run_id, "train")
    train_run(project, store, record, device=device)
    finish_stage(store, record, "train")
    info(f"run {record.run_id}: trained; auditing")
    prepared = prepare_audit(project, store, record, device=device)
    record = run_audit(project, store, begin_run(store, project, record.run_id, "audit"), prepared)
    return store, record.run_id, (str(project.policy) if project.policy else None)


def register(app: typer.Typer) -> None:
    @app.command("gate")
    def gate(
        run_id: Annotated[str | None, typer.Argument(help="Run id to judge (see `govaudit runs list`); "
                                                          "omit with --run-audit.")] = None,
        policy: PolicyOpt = None,
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        junit: OutOpt = None,
        markdown: OutOpt = None,
        json_out: Annotated[Path | None, typer.Option("--json-out", help="Also write the JSON result to PATH.")] = None,
        run_audit: Annotated[bool, typer.Option("--run-audit", help="First scrub, train and audit a new run from "
                                                                    "--config, then gate it.")] = False,
        config: Annotated[Path | None, typer.Option("--config", "-c", help="Project config for --run-audit.")] = None,
        set_: SetOpt = None,
        device: Annotated[str | None, typer.Option("--device", help="--run-audit: cpu or cuda (default: cuda if "
                                                                    "available).")] = None,
    ) -> None:
        """Judge a run against a policy: exit 0 pass (warnings allowed), 1 blocked by policy, 2 bad input.

        Writes the result into the run record (section `policy`) and optionally JUnit XML, Markdown and JSON files.
        With --run-audit --config FILE: scrub, train and audit a new run first (policy default: the config's).
        """
        if run_audit:
            if config is None or run_id is not None:
                raise BadInputError("--run-audit needs --config FILE and no RUN (it creates the run)",
                                    fix="govaudit gate --run-audit --config govaudit.yaml --policy policy.yaml")
            if policy:
                from audit.policy import load_policy

                load_policy(policy)  # a bad policy fails before hours of training, not after
            store, run_id, config_policy = run_pipeline(config, set_, runs_root, db_url, device)
            policy = policy or config_policy
        elif run_id is None or config is not None or set_ or device:
            raise BadInputError("give RUN (an audited run), or --run-audit --config FILE",
                                fix="govaudit gate RUN --policy policy.yaml")
        else:
            store = open_store(runs_root, db_url)
        code = gate_run(store, run_id, policy, junit=junit, markdown=markdown, json_out=json_out)
        if code == ExitCode.POLICY_FAILED:
            raise PolicyFailed(f"run {run_id} blocked by policy", fix="see the FAIL lines above")
