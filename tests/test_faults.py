"""The fault model of docs/conventions.md: non-regular output targets, read-only folders, full disk, Ctrl-C, kill,
concurrent writers. Each test is a fault a careful user hits; the whole file runs in well under a minute."""
from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
from section_builders import fairness, group, grouping

from audit.cli import main
from audit.core.errors import BadInputError
from audit.core.io import atomic_write_text
from audit.record import RunRecord
from audit.record.store import RunStore

POLICY = "name: t\nchecks:\n  impact_ratio: {min: 0.8, severity: block}\n"


@pytest.fixture()
def store(tmp_path) -> RunStore:
    store = RunStore(tmp_path / "runs")
    store.create(RunRecord(run_id="r1", fairness=fairness(grouping("g", [group("a", 100, 1.0), group("b", 100, 0.9)]))))
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    return store


def _report(store: RunStore, out: Path, *extra: str) -> int:
    return main(["report", "r1", "--runs-root", str(store.root), "--out", str(out), *extra])


def _gate(store: RunStore, option: str, out: Path) -> int:
    return main(["gate", "r1", "--policy", str(store.root.parent / "policy.yaml"), "--runs-root", str(store.root),
                 option, str(out)])


# --- non-regular output targets (never replaced) ---

def test_fifo_target_is_written_through_not_replaced(store, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert _report(store, fifo, "--format", "json") == 0
    reader.join(timeout=30)
    assert fifo.is_fifo()
    assert b'"run_id": "r1"' in received[0]


@pytest.fixture()
def null_device(tmp_path) -> Path:
    """A private /dev/null (same device numbers): the test never risks the real one if the code regresses."""
    import stat

    path = tmp_path / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root (as in CI containers, where `--out /dev/null` bit)")
    return path


@pytest.mark.parametrize("option", ["--junit", "--markdown", "--json-out"])
def test_gate_outputs_to_a_null_device_keep_the_device(store, null_device, option):
    before = os.stat(null_device)
    assert _gate(store, option, null_device) in (0, 1)
    after = os.stat(null_device)
    assert null_device.is_char_device() and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_symlink_target_is_followed_and_kept(store, tmp_path):
    real = tmp_path / "real.md"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "latest.md"
    link.symlink_to(real)
    assert _report(store, link, "--format", "md") == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "r1" in real.read_text(encoding="utf-8")


def test_directory_target_is_exit_2_and_record_untouched(store, tmp_path, capsys):
    target = tmp_path / "adir"
    target.mkdir()
    before = (store.run_dir("r1") / "record.json").read_bytes()
    assert _report(store, target) == 2
    assert _gate(store, "--junit", target) == 2
    assert target.is_dir() and not any(target.iterdir())
    assert (store.run_dir("r1") / "record.json").read_bytes() == before
    assert "is a directory" in capsys.readouterr().err


def test_socket_target_is_refused(store, tmp_path):
    import socket

    path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    try:
        assert _gate(store, "--json-out", path) == 2
        assert path.is_socket()
    finally:
        sock.close()


# --- read-only folders and full disk (simulated: tests may run as root, which ignores chmod) ---

def _fail_with(monkeypatch, code: int) -> None:
    import tempfile

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOSPC])
def test_unwritable_or_full_disk_is_exit_2_naming_the_path(store, tmp_path, monkeypatch, capsys, code):
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    _fail_with(monkeypatch, code)
    assert _report(store, target) == 2
    assert target.read_text(encoding="utf-8") == "old"
    err = capsys.readouterr().err
    assert str(target) in err and "cannot write" in err


def test_full_disk_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_text("old", encoding="utf-8")

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(BadInputError, match="no space left"):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


# --- Ctrl-C and kill during a multi-worker scrub ---

def _scrub_project(tmp: Path, rows: int = 40_000) -> Path:
    import pandas as pd

    texts = [f"case {i}: write to person{i}@example.com or call (415) 867-{i % 10000:04d} about it" for i in range(rows)]
    pd.DataFrame({"cid": [f"c{i}" for i in range(rows)], "narrative": texts, "label": ["a", "b"] * (rows // 2),
                  "g": ["x"] * rows}).to_csv(tmp / "train.csv", index=False)
    config = tmp / "govaudit.yaml"
    config.write_text("name: t\ndata: {train: {path: train.csv}, text_columns: [narrative], label_column: label, "
                      "id_column: cid, sensitive_features: [g]}\n"
                      "scrub: {mode: patterns, n_process: 2, batch_size: 64, chunk_rows: 2000}\nruns: {root: runs}\n",
                      encoding="utf-8")
    return config


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _start(config: Path, *args: str):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    return subprocess.Popen([sys.executable, "-m", "audit.cli", "--quiet", *args, "--config", str(config)],
                            cwd=config.parent, env={**os.environ, "PYTHONPATH": str(root)}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(condition, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to see the worker processes")
def test_ctrl_c_stops_a_multi_worker_scrub_with_130_and_no_leftovers(tmp_path):
    import signal
    import subprocess

    proc = _start(_scrub_project(tmp_path), "scrub")
    try:
        _wait_for(lambda: len(_children(proc.pid)) >= 2 or proc.poll() is not None)
        workers = _children(proc.pid)
        assert proc.poll() is None, "the scrub finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("Ctrl-C did not stop the scrub within 30 s") from None
    assert code == 130
    for pid in workers:
        _wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists()
                  or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2], 10)
    assert not list((tmp_path / "runs").glob(".scrub-*"))
    assert not [p for p in (tmp_path / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]


def test_a_killed_scrubs_temp_folder_is_removed_by_the_next_scrub(tmp_path):
    import signal

    config = _scrub_project(tmp_path, rows=20_000)
    proc = _start(config, "scrub")
    _wait_for(lambda: bool(list((tmp_path / "runs").glob(".scrub-*"))) or proc.poll() is not None)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert list((tmp_path / "runs").glob(".scrub-*")), "kill -9 should have left the temp folder"
    live = tmp_path / "runs" / f".scrub-{os.getpid()}-live.tmp"  # a concurrent scrub's folder: kept
    live.mkdir()
    small = _scrub_project(tmp_path, rows=20)
    assert main(["--quiet", "scrub", "--config", str(small)]) == 0
    assert [p.name for p in (tmp_path / "runs").glob(".scrub-*")] == [live.name]


# --- read-only runs root (simulated with EROFS: root ignores chmod) ---

def _read_only(monkeypatch, root: Path) -> None:
    import tempfile

    real_mkdir, real_mkstemp = Path.mkdir, tempfile.mkstemp

    def mkdir(self, *args, **kwargs):
        if root in (self, *self.parents) and not self.exists():
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and root in (Path(dir), *Path(dir).parents):
            raise OSError(errno.EROFS, "Read-only file system", str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_scrub_into_a_read_only_runs_root_is_exit_2(tmp_path, monkeypatch, capsys):
    config = _scrub_project(tmp_path, rows=4)
    _read_only(monkeypatch, tmp_path / "runs")
    assert main(["--quiet", "scrub", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "read-only file system" in err and "internal error" not in err


def test_train_on_a_read_only_runs_root_is_exit_2_and_keeps_the_record(tmp_path, monkeypatch, capsys):
    config = _scrub_project(tmp_path, rows=12)
    assert main(["--quiet", "scrub", "--config", str(config)]) == 0
    run_id = RunStore(tmp_path / "runs").list()[0]["run_id"]
    record_file = tmp_path / "runs" / run_id / "record.json"
    before = record_file.read_bytes()
    _read_only(monkeypatch, tmp_path / "runs")
    capsys.readouterr()
    assert main(["--quiet", "train", "--config", str(config), "--run", run_id,
                 "--set", "model.base=/nonexistent-model"]) == 2  # bad input is found before any write
    assert main(["train", "--config", str(config), "--run", run_id, "--set", "split.test_size=0.3"]) == 2
    err = capsys.readouterr().err
    assert record_file.read_bytes() == before
    assert "read-only file system" in err and "internal error" not in err
