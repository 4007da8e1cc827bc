"""The CLI: help on every command, version, exit codes, runs list/show, schema export, --json."""
import json
import subprocess
import sys

import typer.main

from audit.cli import app, main
from audit.record import RunRecord
from audit.record.store import RunStore


def command_names() -> list[str]:
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None)
        names += [f"{name} {sub}" for sub in subs] if subs else [name]
    return names


def test_every_command_has_help(capsys):
    names = command_names()
    assert "runs list" in names and "runs show" in names
    for name in names:
        assert main([*name.split(), "--help"]) == 0, name
        assert "Usage" in capsys.readouterr().out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("govaudit ")


def test_unknown_command_and_option_are_usage_errors():
    assert main(["no-such-command"]) == 2
    assert main(["runs", "list", "--no-such-option"]) == 2


def test_runs_list_and_show(tmp_path, capsys):
    store = RunStore(tmp_path)
    store.create(RunRecord(run_id="r1", name="demo", stages=["scrub"]))
    assert main(["--json", "runs", "list", "--runs-root", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == ["r1"]
    assert main(["runs", "show", "r1", "--runs-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "run r1" in out and "scrub" in out and store.record_sha256("r1") in out
    assert main(["--json", "runs", "show", "r1", "--runs-root", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == "r1"


def test_bad_run_ids_exit_2_with_one_line(tmp_path, capsys):
    assert main(["runs", "show", "../../etc", "--runs-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "invalid run id" in err and len(err.splitlines()) == 1
    assert main(["runs", "show", "missing", "--runs-root", str(tmp_path)]) == 2
    assert "no run 'missing'" in capsys.readouterr().err


def test_schema_export(capsys):
    assert main(["schema", "config"]) == 0
    assert "data" in json.loads(capsys.readouterr().out)["properties"]
    assert main(["schema", "record"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "RunRecord"
    assert main(["schema", "nonsense"]) == 2


def test_console_script_exit_code(tmp_path):
    """The installed entry point returns the documented exit code to the shell."""
    result = subprocess.run([sys.executable, "-m", "audit.cli", "runs", "show", "nope", "--runs-root", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "error:" in result.stderr


def test_tiny_model_tokenizer_knows_its_vocabulary(tmp_path):
    """Guards the test helper itself: a tokenizer that maps every word to [UNK] would make model tests vacuous."""
    from tiny_models import make_tiny_model

    from audit.core.model_io import load_classifier

    make_tiny_model(tmp_path / "m", ["a", "b"], ["hello world"])
    tokenizer = load_classifier(tmp_path / "m").tokenizer
    assert tokenizer.unk_token_id not in tokenizer("hello world")["input_ids"]
