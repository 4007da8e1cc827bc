"""The monitor on synthetic logs: injected drifts are detected, a no-drift replay stays quiet, updates are
incremental and idempotent, and no text reaches the store."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from junitparser import Failure, JUnitXml

from audit.core.counts import GroupCounts
from audit.core.errors import BadInputError
from audit.monitor import (WINDOWS_FILE, GroupStats, LoadedMonitorPolicy, junit_xml, markdown_summary,
                           monitor_policy_from_text, parse_window)
from monitor_synth import log_frame, monitor, write_log


def _alerting(section, check):
    return {a.window[:10] for a in section.alerts if a.check == check and a.severity == "alert"}


@pytest.mark.parametrize("seed", [101, 102])
def test_no_drift_replay_stays_quiet(tmp_path, seed):
    log = write_log(log_frame(seed), tmp_path / "log.csv")
    _, section = monitor(tmp_path, [log], seed)
    assert section.status == "ok"
    assert section.alerts == []
    assert len(section.windows) == 8 and not any(w.small for w in section.windows)


def test_label_shift_is_detected_from_the_shifted_window(tmp_path):
    log = write_log(log_frame(7, drift="label_shift"), tmp_path / "log.parquet")
    _, section = monitor(tmp_path, [log], 7)
    assert section.status == "alert"
    assert _alerting(section, "prediction_drift") == {"2023-05-05", "2023-05-06", "2023-05-07", "2023-05-08"}


def test_vocabulary_shift_raises_the_oov_finding(tmp_path):
    log = write_log(log_frame(8, drift="vocabulary_shift"), tmp_path / "log.jsonl")
    _, section = monitor(tmp_path, [log], 8)
    found = {a.window[:10] for a in section.alerts if a.check == "oov_rate"}
    assert found == {"2023-05-05", "2023-05-06", "2023-05-07", "2023-05-08"}
    assert section.windows[-1].metrics["oov_rate"] > 0.2


def test_group_whose_selection_rate_falls_alerts_after_two_windows(tmp_path):
    log = write_log(log_frame(9, drift="group_selection_falls"), tmp_path / "log.csv")
    _, section = monitor(tmp_path, [log], 9)
    ir = [a for a in section.alerts if a.check == "impact_ratio"]
    assert {a.subject for a in ir} == {"sex:F"}
    assert min(a.window for a in ir).startswith("2023-05-06")  # consecutive: 2 (breach on 05-05, alert on 05-06)
    changed = {a.subject for a in section.alerts if a.check == "selection_rate_change"}
    assert "sex:F" in changed and "sex:M" not in changed
    first = next(c for c in section.windows[4].checks if c.id == "impact_ratio" and c.subject == "sex:F")
    assert first.status == "breach"


def test_group_whose_misses_rise_alerts_on_its_fnr_gap_after_two_windows(tmp_path):
    log = write_log(log_frame(10, drift="group_misses_rise"), tmp_path / "log.csv")
    _, section = monitor(tmp_path, [log], 10)
    parity = [a for a in section.alerts if a.check == "error_rate_parity"]
    assert {a.subject for a in parity} == {"sex:F fnr"}  # predictions unchanged: only the delayed labels tell
    assert min(a.window for a in parity).startswith("2023-05-06")  # consecutive: 2 (breach on 05-05)
    assert not any(a.check in ("impact_ratio", "prediction_drift") for a in section.alerts)
    first = next(c for c in section.windows[4].checks if c.id == "error_rate_parity" and c.subject == "sex:F fnr")
    assert first.status == "breach" and first.measured > 0.1 and "95% CI" in first.evidence
    before = [c for w in section.windows[:4] for c in w.checks if c.id == "error_rate_parity"]
    assert before and all(c.status in ("pass", "skipped") for c in before)


def test_error_rate_parity_needs_enough_labeled_rows_per_group(tmp_path):
    policy = monitor_policy_from_text("name: t\nmin_group_size: 400\n", source="t.yaml")
    log = write_log(log_frame(10, drift="group_misses_rise"), tmp_path / "log.csv")
    _, section = monitor(tmp_path, [log], 10, policy=LoadedMonitorPolicy(policy=policy, sha256="0" * 64, source="t"))
    checks = [c for w in section.windows for c in w.checks if c.id == "error_rate_parity"]
    assert checks and all(c.status == "skipped" and "below min_group_size" in c.evidence for c in checks)


def test_new_logs_add_windows_and_rerunning_changes_nothing(tmp_path):
    frame = log_frame(3)
    first = write_log(frame.iloc[:4000], tmp_path / "a.csv")
    second = write_log(frame.iloc[4000:], tmp_path / "b.csv")
    ingested, section = monitor(tmp_path, [first], 3)
    assert len(section.windows) == 4
    before = (tmp_path / WINDOWS_FILE).read_bytes()
    again, same = monitor(tmp_path, [first], 3)
    assert (tmp_path / WINDOWS_FILE).read_bytes() == before and again.new_logs == [] and again.skipped == ["a.csv"]
    assert [w.model_dump() for w in same.windows] == [w.model_dump() for w in section.windows]
    more, grown = monitor(tmp_path, [first, second], 3)
    assert [log.name for log in more.new_logs] == ["b.csv"] and len(grown.windows) == 8
    assert [w.model_dump() for w in grown.windows[:4]] == [w.model_dump() for w in section.windows]
    whole = tmp_path / "whole"
    _, at_once = monitor(whole, [write_log(frame, whole / "all.csv")], 3)
    assert [w.metrics for w in at_once.windows] == [w.metrics for w in grown.windows]


def test_row_windows_continue_across_logs(tmp_path):
    frame = log_frame(4, windows=3)
    a = write_log(frame.iloc[:1500], tmp_path / "a.csv")
    b = write_log(frame.iloc[1500:], tmp_path / "b.csv")
    _, section = monitor(tmp_path, [a, b], 4, window="1000rows")
    assert [w.n for w in section.windows] == [1000, 1000, 1000]
    assert section.windows[0].key == "rows:000000000-000000999"


def test_store_holds_counts_not_text(tmp_path):
    frame = log_frame(5, windows=2)
    log = write_log(frame, tmp_path / "log.csv")
    monitor(tmp_path, [log], 5)
    stored = (tmp_path / WINDOWS_FILE).read_text()
    assert all(text not in stored for text in frame["text"].head(50))
    assert "w1 " not in stored and "w12" not in stored


def test_small_windows_and_groups_are_not_judged(tmp_path):
    log = write_log(log_frame(6, windows=3, rows=100, drift="label_shift", start=0), tmp_path / "log.csv")
    _, section = monitor(tmp_path, [log], 6)
    assert all(w.small for w in section.windows) and section.alerts == [] or \
        all(a.check == "volume" for a in section.alerts)
    assert all(c.status == "skipped" for w in section.windows for c in w.checks if c.id != "volume")


def test_pii_in_logs_is_counted_not_stored(tmp_path):
    frame = log_frame(11, windows=2)
    frame.loc[frame.index[:100], "text"] = frame["text"].head(100) + " jane@example.com"
    log = write_log(frame, tmp_path / "log.csv")
    _, section = monitor(tmp_path, [log], 11)
    assert section.windows[0].metrics["pii_rate"] == pytest.approx(0.1)
    assert any(a.check == "pii_rate" for a in section.alerts)
    assert "example.com" not in (tmp_path / WINDOWS_FILE).read_text()


def test_bad_logs_are_bad_input_without_cell_values(tmp_path):
    frame = log_frame(12, windows=1)
    frame.loc[3, "prediction"] = "SECRET-LABEL"
    with pytest.raises(BadInputError) as err:
        monitor(tmp_path, [write_log(frame, tmp_path / "bad.csv")], 12)
    assert "SECRET-LABEL" not in str(err.value) and "chunk row 4" in str(err.value)
    frame = log_frame(12, windows=1)
    frame.loc[5, "timestamp"] = "yesterday"
    with pytest.raises(BadInputError, match="unparsable timestamp"):
        monitor(tmp_path, [write_log(frame, tmp_path / "bad_ts.csv")], 12)
    with pytest.raises(BadInputError, match="log file not found"):
        monitor(tmp_path, [tmp_path / "missing.csv"], 12)
    assert not (tmp_path / WINDOWS_FILE).exists()


def test_csv_rows_with_wrong_fields_or_numbers_are_bad_input_naming_the_row(tmp_path):
    frame = log_frame(12, windows=1)
    log = write_log(frame, tmp_path / "log.csv")
    lines = log.read_text().splitlines()
    lines[3] += ",SECRET-EXTRA"  # data row 3 has one field too many (pandas shifted it into the index before)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInputError, match="data row 3 has 9 fields, the header has 8") as err:
        monitor(tmp_path, [ragged], 12)
    assert "SECRET" not in str(err.value)
    frame["proba_relief"] = frame["proba_relief"].astype(object)
    frame.loc[5, "proba_relief"] = "SECRET-P"
    with pytest.raises(BadInputError, match=r"'proba_relief' holds a value that is not a number \(first at data row 6\)") as err:
        monitor(tmp_path, [write_log(frame, tmp_path / "text_proba.csv")], 12)
    assert "SECRET" not in str(err.value) and not (tmp_path / WINDOWS_FILE).exists()


def test_csv_parquet_and_jsonl_logs_give_the_same_windows(tmp_path):
    frame = log_frame(13, windows=3)
    frame.loc[frame.index[::37], "sex"] = None
    frame.loc[frame.index[::41], "age"] = " "  # blank: the unknown group in every format
    frame.loc[frame.index[::43], "text"] = frame["text"] + ', with "quotes",\nand a newline'
    stats = []
    for suffix in ("csv", "parquet", "jsonl"):
        log = write_log(frame, tmp_path / suffix / f"log.{suffix}")
        _, section = monitor(tmp_path / suffix, [log], 13)
        stats.append(json.loads((tmp_path / suffix / WINDOWS_FILE).read_text())["windows"])
    assert stats[0] == stats[1] == stats[2]


def test_window_spec_is_validated():
    assert parse_window("7d").size == 7 * 86_400 * 10**9 and parse_window("1000rows").kind == "rows"
    for bad in ("7w", "0d", "rows", "-3h"):
        with pytest.raises(BadInputError, match="invalid window"):
            parse_window(bad)


def test_policy_errors_name_key_and_line():
    with pytest.raises(BadInputError, match=r"p.yaml:3: checks.drift_everything: unknown check"):
        monitor_policy_from_text("name: x\nchecks:\n  drift_everything: {}\n", source="p.yaml")
    with pytest.raises(BadInputError, match="alpha"):
        monitor_policy_from_text("name: x\nalpha: 2\n", source="p.yaml")


def test_group_counts_merge_by_addition():
    """Selected = predicted 'yes'; actual = true 'yes' among the rows whose label arrived (truth -1: not yet)."""
    groups, names = np.array([0, 1, 0, 2]), ["a", "b", "c", "never"]
    pred, truth = np.array([1, 0, 1, 1]), np.array([1, 0, -1, -1])

    def stats(rows):
        return GroupStats.from_codes("f", groups[rows], names, pred[rows], truth[rows], ["no", "yes"], (1,))

    whole, parts = stats(slice(None)), stats(slice(0, 2)).merge(stats(slice(2, None)))
    assert whole.to_dict() == parts.to_dict()
    assert {g: c.tolist() for g, c in whole.counts.items()} == {"a": [2, 2, 1, 1, 1, 0], "b": [1, 0, 1, 0, 0, 0],
                                                                 "c": [1, 1, 0, 0, 0, 0]}
    # the labeled rows' counts are the fairness audit's own GroupCounts, the one mergeable count type
    shared = GroupCounts.from_arrays(pd.DataFrame({"f": ["a", "b"]}), truth[:2], pred[:2], ["no", "yes"])
    assert isinstance(whole.labeled, GroupCounts) and whole.labeled.to_dict() == shared.to_dict()


def test_junit_and_markdown_name_the_alerts(tmp_path):
    log = write_log(log_frame(7, drift="label_shift"), tmp_path / "log.csv")
    _, section = monitor(tmp_path, [log], 7)
    xml = junit_xml(section, "run-1")
    suite = next(iter(JUnitXml.fromstring(xml)))
    failed = {case.name for case in suite if case.result and isinstance(case.result[0], Failure)}
    active = {f"{a.window} {a.check}" + (f" {a.subject}" if a.subject else "") for a in section.alerts
              if a.active and a.severity == "alert"}
    assert failed == active and suite.failures == len(active) and "2023-05-08T00:00Z prediction_drift" in failed
    assert suite.tests == sum(len(w.checks) for w in section.windows)
    md = markdown_summary(section, "run-1")
    assert "govaudit monitor: alert" in md and "prediction_drift" in md
    assert json.loads(section.model_dump_json())["status"] == "alert"
