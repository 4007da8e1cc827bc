"""`runs list --reindex`: bad records are skipped and reported, vanished runs dropped, ids checked against folders."""
from __future__ import annotations

import json

from audit.cli import main
from audit.record import RunRecord
from audit.record.store import RECORD_FILE, RunStore


def _store(tmp_path) -> RunStore:
    store = RunStore(tmp_path / "runs")
    for run_id in ("good1", "good2", "bad"):
        store.create(RunRecord(run_id=run_id, status="completed"))
    return store


def test_a_truncated_record_is_skipped_and_reported_and_good_runs_stay(tmp_path, capsys):
    store = _store(tmp_path)
    path = store.run_dir("bad") / RECORD_FILE
    path.write_bytes(path.read_bytes()[:40])
    (store.root / "index.sqlite").unlink()
    assert main(["--json", "runs", "list", "--reindex", "--runs-root", str(store.root)]) == 0
    captured = capsys.readouterr()
    assert sorted(row["run_id"] for row in json.loads(captured.out)) == ["good1", "good2"]
    assert "bad" in captured.err and "corrupt run record" in captured.err


def test_a_deleted_record_drops_its_row(tmp_path):
    store = _store(tmp_path)
    (store.run_dir("good2") / RECORD_FILE).unlink()
    assert store.reindex() == 2
    assert sorted(row["run_id"] for row in store.list()) == ["bad", "good1"]


def test_a_record_whose_run_id_is_not_its_folder_is_not_indexed(tmp_path):
    store = _store(tmp_path)
    path = store.run_dir("bad") / RECORD_FILE
    raw = json.loads(path.read_text())
    raw["run_id"] = "../../PWNED"
    path.write_text(json.dumps(raw))
    problems = []
    assert store.reindex(on_problem=lambda folder, why: problems.append((folder, why))) == 2
    assert sorted(row["run_id"] for row in store.list()) == ["good1", "good2"]
    assert problems and problems[0][0] == "bad" and "not its folder's name" in problems[0][1]


def test_a_run_id_with_a_trailing_newline_is_invalid_not_missing(tmp_path, capsys):
    store = _store(tmp_path)
    assert main(["runs", "show", "good1\n", "--runs-root", str(store.root)]) == 2
    assert "invalid run id" in capsys.readouterr().err
