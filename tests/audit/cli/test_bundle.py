"""`govaudit report RUN --bundle out.zip` and `govaudit bundle verify`: a signed zip of the run's evidence; changing,
adding or removing any file, or the manifest, fails verification (exit 2)."""
from __future__ import annotations

import json
import stat
import zipfile

import pytest
from record_factory import make_record

from audit.cli import main
from audit.record.bundle import KEY_FILE, MANIFEST, PUBLIC_KEY_FILE, SIGNATURE, store_key, verify_bundle, write_bundle
from audit.record.signoff import SignoffLedger, signoff_subject_sha256
from audit.record.store import RunStore
from reports import find_chromium


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundle") / "runs"
    store = RunStore(root)
    run = store.create(make_record())
    SignoffLedger(store).sign(run.run_id, signoff_subject_sha256(store.load(run.run_id)), "approve", "looks right",
                              "rev@example.com")
    out = root.parent / "out.zip"
    assert main(["report", run.run_id, "--runs-root", str(root), "--bundle", str(out)]) == 0
    return store, run.run_id, out


def _rewrite(src, dst, change: dict[str, bytes | None]) -> None:
    """Copy the zip with some members replaced (bytes), removed (None) or added (new name)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for name in old.namelist():
            if name in change:
                if change[name] is not None:
                    new.writestr(name, change[name])
            else:
                new.writestr(name, old.read(name))
        for name, data in change.items():
            if name not in old.namelist() and data is not None:
                new.writestr(name, data)


def test_bundle_holds_the_runs_evidence_and_verifies(bundled, capsys):
    store, run_id, out = bundled
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        record = archive.read("record.json")
        ledger = json.loads(archive.read("ledger.json"))
        manifest = json.loads(archive.read(MANIFEST))
        html = archive.read("report.html").decode()
    expected = {"record.json", "report.html", "junit.xml", "ledger.json", MANIFEST, SIGNATURE}
    assert expected | ({"report.pdf"} if find_chromium() else set()) == names
    assert record == (store.run_dir(run_id) / "record.json").read_bytes()
    assert store.record_sha256(run_id) in html
    assert [e["decision"] for e in ledger["entries"]] == ["approve"] and ledger["ledger"]["ok"]
    assert set(manifest["files"]) == names - {MANIFEST, SIGNATURE} and manifest["run_id"] == run_id
    key = store.root / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and (store.root / PUBLIC_KEY_FILE).is_file()
    capsys.readouterr()
    assert main(["bundle", "verify", str(out), "--runs-root", str(store.root)]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize("member", ["record.json", "report.html", "junit.xml", "ledger.json", MANIFEST])
def test_changing_any_file_or_the_manifest_fails(bundled, tmp_path, member, capsys):
    store, _, out = bundled
    with zipfile.ZipFile(out) as archive:
        data = archive.read(member)
    bad = tmp_path / "bad.zip"
    _rewrite(out, bad, {member: data.replace(b"a", b"b", 1) if b"a" in data else data + b" "})
    assert main(["bundle", "verify", str(bad), "--runs-root", str(store.root)]) == 2
    assert "TAMPERED" in capsys.readouterr().out


def test_removing_adding_or_resigning_fails(bundled, tmp_path):
    store, run_id, out = bundled
    trusted = store_key(store.root).public_key()
    removed, added = tmp_path / "removed.zip", tmp_path / "added.zip"
    _rewrite(out, removed, {"junit.xml": None})
    _rewrite(out, added, {"extra.txt": b"not signed"})
    assert any("missing" in p for p in verify_bundle(removed, trusted=trusted).problems)
    assert any("not in the manifest" in p for p in verify_bundle(added, trusted=trusted).problems)
    with zipfile.ZipFile(out) as archive:
        files = {n: archive.read(n) for n in archive.namelist() if n not in (MANIFEST, SIGNATURE)}
    files["record.json"] = files["record.json"].replace(b"completed", b"approved!")
    forged = tmp_path / "forged.zip"
    write_bundle(forged, files, run_id=run_id, created_at="2030-01-01", key=store_key(tmp_path / "attacker"))
    assert verify_bundle(forged).ok, "self-consistent, so only a pinned key can tell"
    check = verify_bundle(forged, trusted=trusted)
    assert not check.ok and "not by the trusted key" in check.problems[0]


def test_bad_input(bundled, tmp_path):
    store, run_id, _ = bundled
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert main(["bundle", "verify", str(junk)]) == 2
    assert main(["bundle", "verify", str(tmp_path / "missing.zip")]) == 2
    assert main(["report", run_id, "--runs-root", str(store.root), "--bundle", str(tmp_path / "x.tar")]) == 2
    loose = tmp_path / "loose"
    store_key(loose)
    (loose / KEY_FILE).chmod(0o644)
    with pytest.raises(Exception, match="readable by other users"):
        store_key(loose)


@pytest.fixture
def fresh_store(tmp_path, monkeypatch):
    """A store with one run; every report rendering gets its own 'generated' time, so a re-rendered page differs."""
    import itertools

    import reports._model

    ticks = itertools.count()
    monkeypatch.setattr(reports._model, "utc_now", lambda: f"2030-01-01T00:00:{next(ticks):02d}+00:00")
    store = RunStore(tmp_path / "runs")
    run = store.create(make_record())
    return store, run.run_id


def _packed(out) -> tuple[bytes, dict]:
    with zipfile.ZipFile(out) as archive:
        return archive.read("report.html"), json.loads(archive.read(MANIFEST))


def test_bundle_packs_the_html_report_on_disk_byte_for_byte(fresh_store, tmp_path, capsys):
    import hashlib

    store, run_id = fresh_store
    root = str(store.root)
    out = tmp_path / "b.zip"
    assert main(["report", run_id, "--runs-root", root, "--bundle", str(out)]) == 0
    on_disk = (store.run_dir(run_id) / "report.html").read_bytes()
    html, manifest = _packed(out)
    assert html == on_disk and manifest["files"]["report.html"]["sha256"] == hashlib.sha256(on_disk).hexdigest()
    assert "packed from" in capsys.readouterr().err
    # a report rendered earlier is packed as it is when only another format is asked for now
    assert main(["report", run_id, "--runs-root", root, "-f", "md", "--bundle", str(out)]) == 0
    assert _packed(out)[0] == on_disk


def test_bundle_renders_when_the_report_on_disk_no_longer_matches(fresh_store, tmp_path):
    store, run_id = fresh_store
    root = str(store.root)
    out = tmp_path / "b.zip"
    assert main(["report", run_id, "--runs-root", root]) == 0
    page = store.run_dir(run_id) / "report.html"
    stale = page.read_bytes()
    SignoffLedger(store).sign(run_id, signoff_subject_sha256(store.load(run_id)), "approve", "fine", "rev@example.com")
    assert main(["report", run_id, "--runs-root", root, "-f", "json", "--bundle", str(out)]) == 0
    html = _packed(out)[0]
    assert html != stale and b"rev@example.com" in html and b"rev@example.com" not in stale
    assert main(["report", run_id, "--runs-root", root, "-f", "md", "--no-texts", "--bundle", str(out)]) == 0
    assert _packed(out)[0] != page.read_bytes(), "texts withheld now: the page on disk shows them"
    assert main(["report", run_id, "--runs-root", root]) == 0
    edited = page.read_bytes().replace(b"<h1", b"<h1 data-edited", 1)
    page.write_bytes(edited)  # edited after rendering: its stamp still names this record, its own hash does not hold
    assert main(["report", run_id, "--runs-root", root, "-f", "md", "--bundle", str(out)]) == 0
    assert b"data-edited" in edited and b"data-edited" not in _packed(out)[0]


def test_html_matches_follows_record_signoffs_and_texts():
    from reports import html_matches, render_html

    record = make_record()
    page = render_html(record, "ab" * 32, runs_root="runs")
    assert html_matches(page, record, "ab" * 32, runs_root="runs")
    assert not html_matches(page, record, "cd" * 32, runs_root="runs")
    assert not html_matches(page, record, "ab" * 32, runs_root="other")
    assert not html_matches(page, record, "ab" * 32, runs_root="runs", include_texts=False)
    assert not html_matches(page, record, "ab" * 32, runs_root="runs", ledger_problems=["entry 2 was edited"])
    assert not html_matches(page.replace("<h1", "<h1 data-edited", 1), record, "ab" * 32, runs_root="runs")
    assert not html_matches("<html><head></head></html>", record, "ab" * 32, runs_root="runs")
