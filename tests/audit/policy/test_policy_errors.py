"""Every malformed policy is a clear one-line error naming the key and line, and `govaudit gate` exits 2."""
from __future__ import annotations

import json

import pytest

from audit.cli import main
from audit.record import RunRecord
from audit.record.store import RunStore

CASES = {
    "unknown_check": ("name: p\nchecks:\n  impact_ratio: {}\n  disparate_vibes: {max: 0.1}\n",
                      ["p.yaml:4", "checks.disparate_vibes", "unknown check", "impact_ratio"]),
    "unknown_key": ("name: p\nchecks:\n  impact_ratio:\n    minimum: 0.8\n",
                    ["p.yaml:4", "checks.impact_ratio.minimum", "unknown key"]),
    "wrong_type": ("name: p\nchecks:\n  macro_f1:\n    min: high\n",
                   ["p.yaml:4", "checks.macro_f1.min", "valid number"]),
    "threshold_above_one": ("name: p\nchecks:\n  impact_ratio:\n    min: 1.5\n",
                            ["p.yaml:4", "checks.impact_ratio.min", "less than or equal to 1"]),
    "negative_threshold": ("name: p\nchecks:\n  demographic_parity_difference: {max: -0.1}\n",
                           ["checks.demographic_parity_difference.max", "greater than or equal to 0"]),
    "bad_severity": ("name: p\nchecks:\n  impact_ratio: {severity: maybe}\n",
                     ["checks.impact_ratio.severity", "'block' or 'warn'"]),
    "bad_on_missing": ("name: p\non_missing: shrug\nchecks: {}\n", ["p.yaml:2", "on_missing", "'fail', 'warn' or 'ignore'"]),
    "bad_yaml": ("name: p\nchecks:\n  impact_ratio: {min: 0.8\n", ["p.yaml:", "invalid YAML"]),
    "not_a_mapping": ("- impact_ratio\n", ["policy must be a YAML mapping"]),
    "empty_file": ("", ["policy must be a YAML mapping"]),
    "missing_checks": ("name: p\n", ["checks", "Field required"]),
    "missing_name": ("checks: {}\n", ["name", "Field required"]),
    "bad_version": ("version: 2\nname: p\nchecks: {}\n", ["version", "Input should be 1"]),
    "waiver_unknown_check": ("name: p\nchecks: {}\nwaivers:\n  - {check: vibes, owner: a, reason: b, expires: 2030-01-01}\n",
                             ["waiver names unknown check 'vibes'"]),
    "waiver_bad_date": ("name: p\nchecks: {}\nwaivers:\n  - {check: macro_f1, owner: a, reason: b, expires: someday}\n",
                        ["p.yaml:4", "waivers.0.expires", "date"]),
    "waiver_without_owner": ("name: p\nchecks: {}\nwaivers:\n  - {check: macro_f1, reason: b, expires: 2030-01-01}\n",
                             ["waivers.0.owner", "Field required"]),
    "min_group_size_zero": ("name: p\nmin_group_size: 0\nchecks: {}\n", ["min_group_size", "greater than or equal to 1"]),
}


@pytest.fixture()
def store(tmp_path):
    store = RunStore(tmp_path / "runs")
    store.create(RunRecord(run_id="r1"))
    return store


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_policy_exits_2_with_clear_error(case, store, tmp_path, capsys):
    text, expected = CASES[case]
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    before = store.record_sha256("r1")
    code = main(["gate", "r1", "--policy", str(tmp_path / "p.yaml"), "--runs-root", str(store.root)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    for part in expected:
        assert part in err, (part, err)
    assert store.record_sha256("r1") == before  # nothing written


def test_non_utf8_missing_file_and_unknown_builtin(store, tmp_path, capsys):
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\nchecks: {}\n".encode("latin-1"))
    for policy, message in ((str(tmp_path / "latin1.yaml"), "not UTF-8"), (str(tmp_path / "nope.yaml"), "not found"),
                            ("builtin:paranoid", "no shipped policy 'paranoid'")):
        assert main(["gate", "r1", "--policy", policy, "--runs-root", str(store.root)]) == 2
        assert message in capsys.readouterr().err


def test_unknown_run_and_bad_run_id_exit_2(store, capsys):
    assert main(["gate", "nope", "--runs-root", str(store.root)]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    assert main(["gate", "../x", "--runs-root", str(store.root)]) == 2
    assert "invalid run id" in capsys.readouterr().err


def test_schema_policy_command_prints_the_policy_schema(capsys):
    assert main(["schema", "policy"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Policy" and "waivers" in schema["properties"]


@pytest.mark.parametrize("line", ["expires: 2026-02-30", "expires: 2026-13-45"])
def test_an_impossible_waiver_date_is_bad_input_with_its_line(line):
    from audit.core.errors import BadInputError
    from audit.policy import policy_from_text

    text = ("name: p\nchecks:\n  impact_ratio: {min: 0.8}\nwaivers:\n"
            f"  - check: impact_ratio\n    owner: a\n    reason: r\n    {line}\n")
    with pytest.raises(BadInputError) as err:
        policy_from_text(text, source="p.yaml")
    assert "p.yaml:8" in str(err.value) and "expires" in str(err.value)


@pytest.mark.parametrize("checks", ["{}", "\n  macro_f1: {enabled: false}"])
def test_a_policy_that_checks_nothing_is_an_error_unless_allowed(checks):
    from audit.core.errors import BadInputError
    from audit.policy import policy_from_text

    with pytest.raises(BadInputError, match="allow_empty"):
        policy_from_text(f"name: p\nchecks: {checks}\n", source="p.yaml")
    assert policy_from_text(f"name: p\nallow_empty: true\nchecks: {checks}\n", source="p.yaml").allow_empty


def test_a_warn_only_policy_is_flagged_by_the_gate(tmp_path, capsys):
    store = RunStore(tmp_path / "runs")
    store.create(RunRecord(run_id="r1"))
    (tmp_path / "p.yaml").write_text("name: p\nchecks:\n  macro_f1: {min: 0.5, severity: warn, on_missing: warn}\n")
    assert main(["gate", "r1", "--policy", str(tmp_path / "p.yaml"), "--runs-root", str(store.root)]) == 0
    assert "no check with severity block" in capsys.readouterr().err
