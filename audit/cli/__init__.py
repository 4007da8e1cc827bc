"""The `govaudit` command line. Exit codes: 0 ok, 1 policy failed, 2 bad input or usage, 3 internal error.

Each command lives in its own module of this package and is registered here; heavy libraries are imported inside the
commands so that `govaudit --help` stays fast.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated

import typer
from typer.exceptions import TyperException

from audit.core.console import console, end_progress_bars, set_quiet
from audit.core.errors import ExitCode, GovauditError
from audit.core.io import environment_error

from ._options import json_mode

__all__ = ["app", "main"]

# Commands that are built, in pipeline order (as `--help` lists them); a command is listed only once it works.
COMMAND_MODULES = ("demo", "scrub", "train", "audit", "gate", "monitor", "report", "bundle", "dashboard", "signoff",
                   "runs")

app = typer.Typer(
    name="govaudit",
    help="Risk and governance audits for fine-tuned text classifiers: scrub -> train -> audit -> gate -> report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"govaudit {version('govaudit')}")
        except PackageNotFoundError:
            typer.echo("govaudit (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Show the version and exit.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or status lines.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
) -> None:
    set_quiet(quiet or json_output)
    json_mode(json_output)


for _name in COMMAND_MODULES:
    importlib.import_module(f"audit.cli.{_name}").register(app)


def _offline_environment() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, map errors to exit codes, never print a traceback for bad input."""
    _offline_environment()
    try:
        result = app(args=argv, standalone_mode=False)
    except GovauditError as err:
        end_progress_bars()
        console.print(f"error: {err.one_line()}", style="red", markup=False, soft_wrap=True)
        return int(err.exit_code)
    except OSError as err:
        mapped = environment_error(err)
        if mapped is None:
            return _internal(err)
        end_progress_bars()
        console.print(f"error: {mapped.one_line()}", style="red", markup=False, soft_wrap=True)
        return int(mapped.exit_code)
    except typer.Exit as err:
        return err.exit_code
    except (typer.Abort, KeyboardInterrupt):
        end_progress_bars()
        console.print("aborted", style="red")
        return 130
    except TyperException as err:  # usage errors: unknown command/option, bad value
        err.show()
        return int(ExitCode.BAD_INPUT)
    except Exception as err:
        return _internal(err)
    return result if isinstance(result, int) else int(ExitCode.OK)


def _internal(err: Exception) -> int:
    end_progress_bars()
    console.print(f"internal error: {type(err).__name__}: {err}", style="red", markup=False, soft_wrap=True)
    if os.environ.get("GOVAUDIT_DEBUG"):
        raise err
    return int(ExitCode.INTERNAL)


if __name__ == "__main__":
    sys.exit(main())
