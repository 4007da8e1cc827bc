"""The scrub stage on Ray gives the local engine's output and record numbers, resumes after an interruption, and
keeps pseudonyms consistent across actors."""
from __future__ import annotations

import pandas as pd
import pytest

from audit.core.config import config_from_mapping
from audit.core.engine import FAULT_ENV
from audit.record.store import RunStore
from finetune.scrub import pseudonym, run_scrub_stage


def _data(tmp_path, n: int = 120):
    rows = [{"id": i, "text": f"Call 212-555-01{i % 100:02d} or write to user{i % 7}@example.com, ref {i}",
             "label": "a" if i % 2 else "b"} for i in range(n)]
    rows[5]["text"] = rows[95]["text"] = "Mail jane.roe@example.org today"  # same value in two shards
    path = tmp_path / "train.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _project(tmp_path, path, kind: str, **scrub):
    return config_from_mapping({
        "data": {"train": {"path": str(path)}, "text_columns": ["text"], "label_column": "label", "id_column": "id"},
        "scrub": {"mode": "patterns", "chunk_rows": 25, **scrub}, "engine": {"kind": kind, "workers": 2},
        "runs": {"root": str(tmp_path / "runs")}})


def _scrub(tmp_path, path, kind, **scrub):
    store = RunStore(tmp_path / "runs")
    record = run_scrub_stage(_project(tmp_path, path, kind, **scrub), store)
    table = pd.read_parquet(store.artifact(record.run_id, record.scrub.output_artifact))
    return record.scrub, table


def _same_numbers(a, b):
    keys = {"rows_total", "rows_touched", "share_rows_touched", "counts", "residual"}
    assert a.model_dump(include=keys) == b.model_dump(include=keys)
    assert a.output.table_sha256 == b.output.table_sha256 and a.input.table_sha256 == b.input.table_sha256


def test_ray_scrub_equals_local(tmp_path, local_ray):
    path = _data(tmp_path)
    local, local_table = _scrub(tmp_path, path, "local")
    ray_section, ray_table = _scrub(tmp_path, path, "ray")
    _same_numbers(local, ray_section)
    pd.testing.assert_frame_equal(local_table, ray_table)
    execution = ray_section.tables["train"].execution
    assert execution.engine == "ray" and execution.workers == 2 and execution.shards == 5
    assert len(execution.shard_sha256) == 5 and execution.shards_reused == 0
    assert local.tables["train"].execution is None
    assert not list((tmp_path / "runs").glob(".shards-*"))  # finished job: no cache left


def test_interrupted_ray_scrub_resumes_from_finished_shards(tmp_path, local_ray, monkeypatch):
    from audit.cli import main

    path = _data(tmp_path)
    reference, _ = _scrub(tmp_path, path, "local")
    monkeypatch.setenv(FAULT_ENV, "2")
    config = tmp_path / "govaudit.yaml"
    config.write_text(_project(tmp_path, path, "ray").model_dump_json(), encoding="utf-8")
    assert main(["-q", "scrub", "-c", str(config)]) == 130
    assert len(list((tmp_path / "runs").glob(".shards-*/*.json"))) == 2
    monkeypatch.delenv(FAULT_ENV)
    resumed, _ = _scrub(tmp_path, path, "ray")
    assert resumed.tables["train"].execution.shards_reused == 2
    _same_numbers(reference, resumed)


def test_pseudonyms_agree_across_actors_and_ephemeral_keys_are_not_resumed(tmp_path, local_ray, monkeypatch):
    path = _data(tmp_path)
    monkeypatch.delenv("GOVAUDIT_PSEUDONYM_KEY", raising=False)
    section, table = _scrub(tmp_path, path, "ray", operator="pseudonym")
    assert section.pseudonym_key.startswith("ephemeral")
    texts = table["text"]
    assert texts.iloc[5] == texts.iloc[95] and "jane.roe" not in texts.iloc[5]  # shards 0 and 3, scrubbed by different actors
    assert not list((tmp_path / "runs").glob(".shards-*"))

    monkeypatch.setenv("GOVAUDIT_PSEUDONYM_KEY", "k" * 32)
    keyed, keyed_table = _scrub(tmp_path, path, "ray", operator="pseudonym")
    assert keyed.pseudonym_key == "env:GOVAUDIT_PSEUDONYM_KEY"
    token = pseudonym(b"k" * 32, "EMAIL_ADDRESS", "jane.roe@example.org")
    assert token in keyed_table["text"].iloc[95]


def test_bad_input_on_ray_leaves_no_cache(tmp_path, local_ray):
    from audit.core.errors import BadInputError

    path = _data(tmp_path)
    frame = pd.read_csv(path)
    frame["text"] = frame["text"].astype(object)
    frame.loc[110, "text"] = 12345  # a non-string cell in the last shard
    bad = tmp_path / "bad.jsonl"
    frame.to_json(bad, orient="records", lines=True)
    with pytest.raises(BadInputError, match="non-string"):
        run_scrub_stage(_project(tmp_path, bad, "ray"), RunStore(tmp_path / "runs"))
    assert not list((tmp_path / "runs").glob(".shards-*"))
