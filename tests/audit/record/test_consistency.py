"""Issue #15 record consistency: stale sections after a rerun, lost updates between concurrent commands, artifacts
that no longer match the record."""
import json
import multiprocessing

import pytest
from record_factory import make_record

from audit.cli import main
from audit.record import RunRecord
from audit.record.store import RecordConflict, RunStore, begin_run, finish_stage


@pytest.fixture
def store(tmp_path, db_url):
    return RunStore(tmp_path / "runs", db_url)


def _root_args(store):
    args = ["--runs-root", str(store.root)]
    return args + (["--db-url", store.database_url] if store.database_url.startswith("postgresql") else [])


def test_train_rerun_drops_the_audit_sections_with_a_notice(store):
    store.create(make_record("r1"))
    record = begin_run(store, None, "r1", "train")
    for name in ("fairness", "counterfactual", "attribution", "policy"):
        assert getattr(record, name) is None and getattr(store.load("r1"), name) is None
    assert record.train is not None and record.scrub is not None  # upstream and the stage's own section stay
    notice = record.notices[-1]
    assert notice.code == "stale_sections_dropped"
    assert "fairness, counterfactual, attribution, policy" in notice.message
    assert "audit" not in record.stages


def test_audit_rerun_drops_only_the_policy(store):
    store.create(make_record("r1"))
    record = begin_run(store, None, "r1", "audit")
    assert record.policy is None and record.fairness is not None and "policy" in record.notices[-1].message


def test_a_concurrent_gate_is_not_silently_overwritten(store):
    store.create(make_record("r1"))
    audit = store.load("r1")  # `audit --run r1` reads the record and works for a while
    gate = store.load("r1")  # meanwhile `gate r1` writes its policy section
    gate.policy.verdict = "pass"
    store.save(gate)
    audit.notice("audit", "x", "new audit")
    with pytest.raises(RecordConflict, match="changed on disk after this command read it"):
        store.save(audit)
    assert store.load("r1").policy.verdict == "pass"  # the gate's write survived
    again = store.load("r1")
    again.notice("audit", "x", "after reload")
    store.save(again)
    again.notice("audit", "y", "second save of the same object")
    store.save(again)  # its own earlier save is not a conflict


def _writer(root: str, url: str | None, tag: str, n: int, queue) -> None:
    store = RunStore(root, url)
    saved = conflicts = 0
    for i in range(n):
        record = store.load("r1")
        record.notice("w", tag, f"{tag}{i}")
        try:
            store.save(record)
            saved += 1
        except RecordConflict:
            conflicts += 1
    queue.put((saved, conflicts))


def test_two_concurrent_writers_lose_no_update(store):
    store.create(RunRecord(run_id="r1"))
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    url = None if store.database_url.startswith("sqlite") else store.database_url
    procs = [ctx.Process(target=_writer, args=(str(store.root), url, tag, 40, queue)) for tag in ("a", "b")]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    saved = sum(r[0] for r in results)
    assert saved + sum(r[1] for r in results) == 80
    assert len(store.load("r1").notices) == saved  # every successful save is in the record: no lost update
    assert {row["run_id"] for row in store.list()} == {"r1"}


def test_artifacts_are_listed_with_sha256_and_verified(store, capsys):
    store.create(RunRecord(run_id="r1"))
    record = store.load("r1")
    model = store.artifact("r1", "model/model.safetensors")
    model.parent.mkdir(parents=True)
    model.write_bytes(b"weights")
    store.artifact("r1", "splits.parquet").write_bytes(b"splits")
    finish_stage(store, record, "train")
    store.artifact("r1", "predictions.parquet").write_bytes(b"old predictions")
    finish_stage(store, store.load("r1"), "audit")
    listed = {a.path: (a.stage, a.bytes) for a in store.load("r1").artifacts}
    assert listed == {"model/model.safetensors": ("train", 7), "splits.parquet": ("train", 6),
                      "predictions.parquet": ("audit", 15)}
    assert main(["runs", "verify", "r1", *_root_args(store)]) == 0
    # a killed re-audit: new predictions written, the record never updated
    store.artifact("r1", "predictions.parquet").write_bytes(b"new predictions")
    capsys.readouterr()
    assert main(["runs", "verify", "r1", *_root_args(store)]) == 2
    captured = capsys.readouterr()
    assert "CHANGED  predictions.parquet  (written by audit)" in captured.out
    assert "predictions.parquet (changed)" in captured.err
    model.unlink()
    assert main(["--json", "runs", "verify", "r1", *_root_args(store)]) == 2
    rows = {r["path"]: r["status"] for r in json.loads(capsys.readouterr().out)["artifacts"]}
    assert rows["model/model.safetensors"] == "missing" and rows["splits.parquet"] == "ok"


def test_index_lists_filters_and_rebuilds_on_either_database(store):
    from sqlalchemy import text

    store.create(make_record("r1"))
    store.create(RunRecord(run_id="r2"))
    assert {r["run_id"]: r["verdict"] for r in store.list()} == {"r1": "fail", "r2": None}
    assert [r["run_id"] for r in store.list(verdict="fail")] == ["r1"]
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM runs"))
    assert store.list() == [] and store.reindex() == 2
    assert {r["run_id"] for r in store.list()} == {"r1", "r2"}
