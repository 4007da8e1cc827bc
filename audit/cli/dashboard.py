"""`govaudit dashboard` (start the Streamlit review dashboard) and `govaudit dashboard add-reviewer|reviewers`."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from audit.core.console import info
from audit.core.errors import BadInputError

from ._options import DbUrlOpt, RunsRootOpt, json_mode, output

__all__ = ["register", "dashboard_url", "streamlit_command", "reviewers_path"]

ReviewersOpt = Annotated[Path | None, typer.Option("--reviewers", help="Reviewer list (default: <runs-root>/reviewers.json).")]


def dashboard_url(host: str, port: int, run_id: str | None = None) -> str:
    shown = "localhost" if host in ("127.0.0.1", "localhost", "::1") else host
    return f"http://{shown}:{port}/" + (f"run?run={run_id}" if run_id else "")


def streamlit_command(host: str, port: int) -> list[str]:
    """The `streamlit run` command line (through dashboard.serve, which pre-imports the pages while the server
    starts): headless, no usage statistics, no file watcher, no agent API."""
    app = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    return [sys.executable, "-m", "dashboard.serve", "run", str(app), "--server.headless=true",
            f"--server.address={host}", f"--server.port={port}", "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none", "--server.runOnSave=false", "--server.enableAgentApi=false",
            "--client.toolbarMode=viewer"]


def reviewers_path(runs_root: Path | None, reviewers: Path | None) -> Path:
    return reviewers or (runs_root or Path("runs")) / "reviewers.json"


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The review dashboard: browse runs, inspect evidence, sign off.")

    @group.callback(invoke_without_command=True)
    def dashboard(
        ctx: typer.Context,
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        reviewers: ReviewersOpt = None,
        port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8501,
        host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 exposes the dashboard to the network.")] = "127.0.0.1",
    ) -> None:
        """Start the dashboard (headless Streamlit server) on the run store; stop it with Ctrl-C."""
        if ctx.invoked_subcommand is not None:
            return
        root = (runs_root or Path("runs")).resolve()
        if not root.is_dir():
            raise BadInputError(f"run store not found at {root}", fix="pass --runs-root, or run `govaudit demo` first")
        env = dict(os.environ, GOVAUDIT_RUNS_ROOT=str(root),
                   GOVAUDIT_REVIEWERS=str(reviewers_path(root, reviewers).resolve()))
        if db_url:
            env["GOVAUDIT_DB_URL"] = db_url
        if host not in ("127.0.0.1", "localhost", "::1"):
            info(f"warning: binding to {host}: the dashboard is reachable from other machines")
        info(f"dashboard on {dashboard_url(host, port)}  (runs: {root})")
        command = streamlit_command(host, port)
        os.execve(command[0], command, env)  # become the server: signals (Ctrl-C, SIGTERM) reach Streamlit directly

    @group.command("add-reviewer")
    def add_reviewer(
        name: Annotated[str, typer.Argument(help="Reviewer name, shown in the sign-off trail.")],
        runs_root: RunsRootOpt = None,
        reviewers: ReviewersOpt = None,
        email: Annotated[str | None, typer.Option(help="E-mail address for OIDC login (st.login), if configured.")] = None,
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
        oidc_only: Annotated[bool, typer.Option("--oidc-only", help="No password: log in only through OIDC (needs --email).")] = False,
        reset: Annotated[bool, typer.Option("--reset", help="Replace an existing reviewer's password / e-mail "
                                                            "(logged in the reviewer audit log).")] = False,
    ) -> None:
        """Add a reviewer (or --reset an existing one); the password is read from a prompt or stdin and stored as a
        salted scrypt hash. Passwords: at least 12 characters, not common, not the name."""
        from audit.record.reviewers import ReviewerList

        if oidc_only:
            password = None
        elif password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
        path = reviewers_path(runs_root, reviewers)
        reviewer = ReviewerList(path).add(name, password, email, reset=reset)
        output({"reviewer": reviewer.name, "email": reviewer.email, "file": str(path)},
               f"reviewer {reviewer.name!r} saved in {path}")

    @group.command("disable-reviewer")
    def disable_reviewer(
        name: Annotated[str, typer.Argument(help="Reviewer to disable (can no longer log in or sign off).")],
        runs_root: RunsRootOpt = None,
        reviewers: ReviewersOpt = None,
    ) -> None:
        """Disable a reviewer (kept in the list and the trail; logged in the reviewer audit log)."""
        from audit.record.reviewers import ReviewerList

        path = reviewers_path(runs_root, reviewers)
        ReviewerList(path).disable(name)
        output({"reviewer": name, "disabled": True}, f"reviewer {name!r} disabled in {path}")

    @group.command("reviewers")
    def list_reviewers(runs_root: RunsRootOpt = None, reviewers: ReviewersOpt = None) -> None:
        """List the reviewers (names, e-mail, how they log in; never hashes)."""
        from audit.record.reviewers import ReviewerList

        rows = [{"name": r.name, "email": r.email, "password": r.password_hash is not None, "added_at": r.added_at,
                 "disabled": r.disabled}
                for r in ReviewerList(reviewers_path(runs_root, reviewers)).reviewers]
        if json_mode():
            typer.echo(json.dumps(rows, indent=2))
        else:
            typer.echo("\n".join(f"{r['name']}  {r['email'] or '-'}  {'password' if r['password'] else 'oidc'}"
                                 for r in rows) or "no reviewers")

    @group.command("verify-ledger")
    def verify_ledger(
        runs_root: RunsRootOpt = None,
        db_url: DbUrlOpt = None,
        expect_head: Annotated[str | None, typer.Option(
            "--expect-head", help="A head hash kept outside the run store (e.g. printed by `govaudit gate` into a CI "
                                  "log): it must still be in the chain.")] = None,
    ) -> None:
        """Check the sign-off hash chain and every copy of its head; exit 2 if anything was edited or deleted."""
        from audit.record.signoff import SignoffLedger

        from ._options import open_store

        check = SignoffLedger(open_store(runs_root, db_url)).verify(expect_head=expect_head)
        output({"ok": check.ok, "entries": check.entries, "head": check.head, "problems": check.problems,
                "warnings": check.warnings},
               "\n".join([f"sign-off ledger: {check.entries} entries, "
                          f"{'intact' if check.ok else 'BROKEN'}", *check.problems, *check.warnings]))
        if not check.ok:
            raise BadInputError("the sign-off ledger was tampered with: " + "; ".join(check.problems))

    app.add_typer(group, name="dashboard")
