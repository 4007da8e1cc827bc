"""Data errors name files, lines and rows, give a fix, and never print a cell value."""
from __future__ import annotations

import pandas as pd
import pytest

from audit.core.config import DataConfig
from audit.core.data import iter_chunks, read_table, validate_table
from audit.core.errors import BadInputError

MAPPING = DataConfig(text_columns=["text"], label_column="label", id_column="id")


def test_duplicate_ids_are_reported_by_row_never_by_value():
    frame = pd.DataFrame({"id": ["x", "jane.doe@example.com", "y", "jane.doe@example.com"],
                          "text": ["a", "b", "c", "d"], "label": ["p", "q", "p", "q"]})
    with pytest.raises(BadInputError) as err:
        validate_table(frame, MAPPING, where="f.csv")
    message = str(err.value)
    assert "jane.doe" not in message and "example.com" not in message
    assert "duplicate id" in message and "rows [2, 4]" in message


@pytest.mark.parametrize("reader", [read_table, lambda p: list(iter_chunks(p, 2))])
def test_malformed_jsonl_names_the_line(tmp_path, reader):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": "p"}\n{"text": "b", "label": "q"}\n{"text": "secret-value", \n',
                    encoding="utf-8")
    with pytest.raises(BadInputError) as err:
        reader(path)
    assert "line 3" in str(err.value) and "secret-value" not in str(err.value)


@pytest.mark.parametrize("content", ["", "text,label\n"])
def test_empty_and_header_only_files_say_how_to_fix(tmp_path, content):
    path = tmp_path / "d.csv"
    path.write_text(content, encoding="utf-8")
    for reader in (read_table, lambda p: list(iter_chunks(p, 2))):
        with pytest.raises(BadInputError) as err:
            reader(path)
        assert err.value.fix and "no data rows" in err.value.fix


def test_a_directory_is_not_reported_as_missing(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(BadInputError) as err:
        read_table(folder)
    assert "is a directory" in str(err.value) and "not found" not in str(err.value)
