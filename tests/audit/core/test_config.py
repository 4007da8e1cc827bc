"""Project config: validation errors name the key and the line; overrides; path resolution; JSON schema."""
from pathlib import Path

import pytest

from audit.core.config import config_json_schema, load_config
from audit.core.errors import BadInputError

GOOD = """\
version: 1
name: demo
data:
  train:
    path: data.csv
  text_columns: [text]
  label_column: label
  sensitive_features: [sex]
train:
  epochs: 2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "govaudit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_resolves_relative_paths(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.data.train.path == tmp_path.resolve() / "data.csv"
    assert config.runs.root == tmp_path.resolve() / "runs"
    assert config.train.epochs == 2
    assert config.data.sensitive_features == ["sex"]


def test_unknown_key_names_key_and_line(tmp_path):
    text = GOOD.replace("  epochs: 2", "  epochs: 2\n  epochz: 3")
    with pytest.raises(BadInputError) as err:
        load_config(write(tmp_path, text))
    assert "train.epochz" in err.value.message
    assert "govaudit.yaml:11" in err.value.message
    assert "unknown key" in err.value.message


def test_wrong_type_names_key_and_line(tmp_path):
    with pytest.raises(BadInputError) as err:
        load_config(write(tmp_path, GOOD.replace("epochs: 2", "epochs: many")))
    assert "train.epochs" in err.value.message and "govaudit.yaml:10" in err.value.message


def test_missing_required_section(tmp_path):
    with pytest.raises(BadInputError) as err:
        load_config(write(tmp_path, "version: 1\nname: x\n"))
    assert "data" in err.value.message


def test_bad_yaml_reports_line(tmp_path):
    with pytest.raises(BadInputError) as err:
        load_config(write(tmp_path, "data: [unclosed\nname: x\n"))
    assert "invalid YAML" in err.value.message and "govaudit.yaml:" in err.value.where


def test_column_in_two_roles_is_rejected(tmp_path):
    with pytest.raises(BadInputError) as err:
        load_config(write(tmp_path, GOOD.replace("[sex]", "[label]")))
    assert "more than one role" in err.value.message


def test_overrides_win_and_are_validated(tmp_path):
    path = write(tmp_path, GOOD)
    config = load_config(path, ["train.epochs=5", "fairness.favorable_label=yes"])
    assert config.train.epochs == 5 and config.fairness.favorable_label == "yes"
    with pytest.raises(BadInputError) as err:
        load_config(path, ["train.epochs=-1"])
    assert "train.epochs" in err.value.message
    with pytest.raises(BadInputError):
        load_config(path, ["no-equals-sign"])


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(BadInputError, match="mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))


def test_json_schema_exports_sections():
    schema = config_json_schema()
    assert {"data", "model", "scrub", "train", "fairness", "policy"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_demo_config_is_valid():
    demo = Path(__file__).resolve().parents[3] / "audit" / "data" / "demo" / "govaudit.yaml"
    config = load_config(demo)
    assert config.data.train.path.is_file()
    assert config.fairness.favorable_label == "relief"
