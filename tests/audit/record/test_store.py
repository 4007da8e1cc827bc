"""Run record and run store: round trip, version checks, atomic writes, run-id validation, SQLite index."""
import json
import os

import pytest

from audit.core.errors import BadInputError
from audit.core.io import atomic_dir, atomic_write_text
from audit.record import SCHEMA_VERSION, RunRecord, new_run_id, record_from_json, validate_run_id
from audit.record.store import RECORD_FILE, RunStore


def make_record(run_id=None, **kw) -> RunRecord:
    return RunRecord(run_id=run_id or new_run_id(), name="t", **kw)


def test_record_round_trip_preserves_everything():
    record = make_record(stages=["scrub"], config={"a": 1})
    record.notice("audit", "small_group", "group x below 30 rows")
    again = record_from_json(record.to_json())
    assert again == record
    assert again.tool.libraries["torch"]


def test_newer_schema_version_is_a_clear_error():
    raw = json.loads(make_record().to_json())
    raw["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(BadInputError, match="newer than this govaudit supports"):
        record_from_json(json.dumps(raw))


@pytest.mark.parametrize("text,match", [("{not json", "not JSON"), ("[1]", "not a JSON object"),
                                        ('{"run_id": "x"}', "schema_version")])
def test_corrupt_records_are_clear_errors(text, match):
    with pytest.raises(BadInputError, match=match):
        record_from_json(text)


def test_unknown_fields_from_same_version_are_tolerated():
    raw = json.loads(make_record().to_json())
    raw["future_field"] = {"x": 1}
    assert record_from_json(json.dumps(raw)).run_id == raw["run_id"]


@pytest.mark.parametrize("bad", ["../etc", "a/b", "..", ".hidden", "", "a" * 200, "x\\y", "a..b"])
def test_run_ids_cannot_traverse(bad, tmp_path):
    with pytest.raises(BadInputError, match="invalid run id"):
        validate_run_id(bad)
    with pytest.raises(BadInputError):
        RunStore(tmp_path).load(bad)


def test_artifact_paths_cannot_escape(tmp_path):
    store = RunStore(tmp_path)
    record = store.create(make_record("r1"))
    assert store.artifact(record.run_id, "model/config.json").is_relative_to(tmp_path.resolve() / "r1")
    with pytest.raises(BadInputError, match="escapes"):
        store.artifact("r1", "../r2/record.json")


def test_store_create_save_load_list(tmp_path):
    store = RunStore(tmp_path / "runs")
    first = store.create(make_record("20260101T000000Z-aaaaaa", status="completed"))
    second = store.create(make_record("20260102T000000Z-bbbbbb"))
    second.created_at = "2026-01-02T00:00:00+00:00"
    first.created_at = "2026-01-01T00:00:00+00:00"
    store.save(first)
    digest = store.save(second)
    assert store.load(second.run_id) == second
    assert store.record_sha256(second.run_id) == digest
    rows = store.list()
    assert [r["run_id"] for r in rows] == [second.run_id, first.run_id]
    assert [r["run_id"] for r in store.list(status="completed")] == [first.run_id]
    with pytest.raises(BadInputError, match="already exists"):
        store.create(make_record(first.run_id))


def test_index_rebuilds_from_disk(tmp_path):
    store = RunStore(tmp_path)
    store.create(make_record("r1"))
    (tmp_path / "index.sqlite").unlink()
    fresh = RunStore(tmp_path)
    assert fresh.list() == []
    assert fresh.reindex() == 1 and fresh.list()[0]["run_id"] == "r1"


def test_database_url_option(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    store = RunStore(tmp_path / "runs", url)
    store.create(make_record("r1"))
    assert (tmp_path / "elsewhere.db").is_file() and not (tmp_path / "runs" / "index.sqlite").exists()


def test_unreachable_database_is_a_clear_error(tmp_path):
    store = RunStore(tmp_path, "sqlite:////nonexistent-dir/x/y.db")
    with pytest.raises(BadInputError, match="run index unavailable"):
        store.list()


def test_atomic_write_keeps_old_content_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    atomic_write_text(path, "old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_atomic_dir_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "model"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "weights").write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(target) as tmp:
        (tmp / "weights").write_text("whole")
    assert (target / "weights").read_text() == "whole"


def test_record_file_is_written_atomically(tmp_path):
    store = RunStore(tmp_path)
    record = store.create(make_record("r1"))
    record.notice("x", "y", "z")
    store.save(record)
    files = sorted(p.name for p in (tmp_path / "r1").iterdir())
    assert files == [RECORD_FILE]

