"""`govaudit signoff approve|reject|request-changes|history|export`: the dashboard's sign-off for headless workflows.

Same ledger and rules as the dashboard (`SignoffLedger.decide`): the reviewer authenticates with their password
(stdin or a hidden prompt; server-side lockout and audit log as on the dashboard), the decision binds to the run's
current evidence hash, the owner cannot approve, and approving failed blocking checks needs `--ack CHECK=REASON` each.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from audit.core.errors import BadInputError

from ._options import DbUrlOpt, RunsRootOpt, json_mode, open_store, output

__all__ = ["register"]

ReviewerOpt = Annotated[str, typer.Option("--reviewer", "-r", help="Your name on the reviewer list.")]
CommentOpt = Annotated[str, typer.Option("--comment", "-m", help="What you checked and why you decided so.")]
StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin (else a prompt).")]
ReviewersOpt = Annotated[Path | None, typer.Option("--reviewers", help="Reviewer list (default: <runs-root>/reviewers.json).")]
AckOpt = Annotated[list[str] | None, typer.Option(
    "--ack", help="CHECK=REASON: accept the risk of a failed blocking check (repeat for each; needed to approve).")]


def _acks(values: list[str] | None) -> dict[str, str]:
    acks = {}
    for value in values or []:
        check, sep, reason = value.partition("=")
        if not sep or not check.strip() or not reason.strip():
            raise BadInputError(f"--ack {value!r} is not CHECK=REASON", fix="e.g. --ack 'impact_ratio:age=ticket RISK-1'")
        acks[check.strip()] = reason.strip()
    return acks


def _decide(decision: str, run_id: str, reviewer: str, comment: str, password_stdin: bool, acks: dict[str, str],
            runs_root: Path | None, db_url: str | None, reviewers: Path | None) -> None:
    from audit.record.reviewers import ReviewerList
    from audit.record.signoff import SignoffLedger

    from .dashboard import reviewers_path

    store = open_store(runs_root, db_url)
    record = store.load(run_id)  # a mistyped run id is an error here, before any password is asked
    people = ReviewerList(reviewers_path(runs_root, reviewers))
    password = (sys.stdin.readline().rstrip("\r\n") if password_stdin
                else typer.prompt("password", hide_input=True, err=True))
    if people.authenticate(reviewer, password, source="cli") is None:
        until = people.locked_until(reviewer)
        raise BadInputError(f"log-in failed for {reviewer!r}" + (f": locked until {until:%H:%M:%S} UTC after repeated "
                                                                 "failures" if until else ""),
                            fix="check the name (see `govaudit dashboard reviewers`) and the password")
    known = people.get(reviewer)
    entry = SignoffLedger(store).decide(record, decision, comment, reviewer, "password", acknowledged=acks,
                                        reviewer_email=known.email if known else None)
    output(entry.as_dict(), f"recorded: {entry.decision} by {entry.reviewer} on run {entry.run_id} "
                            f"(entry {entry.seq}, hash {entry.entry_hash}, evidence {entry.record_sha256[:12]}…)")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Sign off a run without the dashboard (same ledger and rules).", no_args_is_help=True)

    @group.command("approve")
    def approve(run_id: Annotated[str, typer.Argument(help="Run id.")], reviewer: ReviewerOpt, comment: CommentOpt,
                ack: AckOpt = None, password_stdin: StdinOpt = False, runs_root: RunsRootOpt = None,
                db_url: DbUrlOpt = None, reviewers: ReviewersOpt = None) -> None:
        """Approve the run's current evidence (each failed blocking check needs --ack CHECK=REASON)."""
        _decide("approve", run_id, reviewer, comment, password_stdin, _acks(ack), runs_root, db_url, reviewers)

    @group.command("reject")
    def reject(run_id: Annotated[str, typer.Argument(help="Run id.")], reviewer: ReviewerOpt, comment: CommentOpt,
               password_stdin: StdinOpt = False, runs_root: RunsRootOpt = None, db_url: DbUrlOpt = None,
               reviewers: ReviewersOpt = None) -> None:
        """Reject the run's current evidence (voids earlier approvals of it)."""
        _decide("reject", run_id, reviewer, comment, password_stdin, {}, runs_root, db_url, reviewers)

    @group.command("request-changes")
    def request_changes(run_id: Annotated[str, typer.Argument(help="Run id.")], reviewer: ReviewerOpt,
                        comment: CommentOpt, password_stdin: StdinOpt = False, runs_root: RunsRootOpt = None,
                        db_url: DbUrlOpt = None, reviewers: ReviewersOpt = None) -> None:
        """Ask for changes before approval (voids earlier approvals of this evidence)."""
        _decide("request_changes", run_id, reviewer, comment, password_stdin, {}, runs_root, db_url, reviewers)

    @group.command("history")
    def history(run_id: Annotated[str, typer.Argument(help="Run id.")], runs_root: RunsRootOpt = None,
                db_url: DbUrlOpt = None) -> None:
        """The decisions on one run, oldest first, and whether its current evidence counts as approved."""
        from audit.core.text import plain
        from audit.record.signoff import SignoffLedger, run_owner, signoff_subject_sha256

        store = open_store(runs_root, db_url)
        record = store.load(run_id)
        ledger = SignoffLedger(store)
        subject = signoff_subject_sha256(record)
        approval = ledger.approval(run_id, subject, owner=run_owner(record))
        entries = ledger.history(run_id)
        if json_mode():
            typer.echo(json.dumps({"run_id": run_id, "evidence_sha256": subject, "approved": approval.ok,
                                   "state": approval.state, "reason": approval.reason,
                                   "entries": [e.as_dict() for e in entries]}, indent=2, ensure_ascii=False))
            return
        lines = [f"run {run_id}: {'APPROVED' if approval.ok else 'not approved'} — {plain(approval.reason)}"]
        lines += [f"  #{e.seq} {e.created_at} {e.decision:15} {plain(e.reviewer)}"
                  f"{' (this evidence)' if e.record_sha256 == subject else ' (older evidence)'}: {plain(e.comment)}"
                  + "".join(f"\n      risk accepted {plain(k)}: {plain(v)}" for k, v in e.acknowledgements.items())
                  for e in entries]
        typer.echo("\n".join(lines))

    @group.command("export")
    def export(fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "json",
               out: Annotated[Path | None, typer.Option("--out", help="Write to PATH instead of stdout.")] = None,
               runs_root: RunsRootOpt = None, db_url: DbUrlOpt = None) -> None:
        """The whole ledger for auditors (JSON includes the verification result and head)."""
        from audit.core.io import atomic_write_text
        from audit.record.signoff import SignoffLedger

        text = SignoffLedger(open_store(runs_root, db_url)).export(fmt)
        if out is None:
            typer.echo(text, nl=False)
        else:
            atomic_write_text(out, text)

    app.add_typer(group, name="signoff")
