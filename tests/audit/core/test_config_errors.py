"""Config problems that used to crash (exit 3) are bad input (exit 2) with key and line: dates, --set values."""
from __future__ import annotations

import pytest

from audit.cli import main
from audit.core.config import load_config
from audit.core.errors import BadInputError

GOOD = """\
name: demo
owner: {owner}
data:
  train: {{path: data.csv}}
  text_columns: [text]
  label_column: label
"""


def write(tmp_path, owner: str = "team"):
    path = tmp_path / "govaudit.yaml"
    path.write_text(GOOD.format(owner=owner), encoding="utf-8")
    return path


def test_a_date_like_text_value_stays_text(tmp_path):
    assert load_config(write(tmp_path, "2026-13-45")).owner == "2026-13-45"


@pytest.mark.parametrize("assignment", ["train.epochs=[", "name=!!python/object/apply:os.system ['true']",
                                        "train.epochs={a: [1"])
def test_a_bad_set_value_is_one_line_exit_2(tmp_path, capsys, assignment):
    assert main(["scrub", "--config", str(write(tmp_path)), "--set", assignment]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --set:") and "not valid YAML" in err and "\n" not in err


def test_an_unknown_set_key_is_blamed_on_set_not_the_config(tmp_path):
    with pytest.raises(BadInputError) as err:
        load_config(write(tmp_path), ["nosuch.key=1"])
    assert "--set: nosuch" in str(err.value) and "govaudit.yaml:1" not in str(err.value)


def test_split_sizes_that_leave_no_training_rows_fail_at_load(tmp_path):
    with pytest.raises(BadInputError, match="split.validation_size"):
        load_config(write(tmp_path), ["split.validation_size=0.45", "split.test_size=0.6"])
