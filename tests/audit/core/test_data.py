"""Data layer: formats, every bad-input case, unknown groups, fingerprints."""
import pandas as pd
import pytest

from audit.core.config import DataConfig
from audit.core.data import column_names, iter_chunks, iter_columns, read_table, table_sha256, validate_table
from audit.core.errors import BadInputError
from audit.record import fingerprint

MAPPING = DataConfig(text_columns=["text"], label_column="label", id_column="id", sensitive_features=["sex"])


def frame(**overrides):
    data = {"id": ["a", "b", "c"], "text": ["one", "two", "three"], "label": ["yes", "no", "yes"],
            "sex": ["f", "m", None]}
    data.update(overrides)
    return pd.DataFrame(data)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_reads_each_format_identically(tmp_path, suffix):
    df = frame()
    path = tmp_path / f"d{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path)
    table = validate_table(read_table(path), MAPPING, where=str(path))
    assert table.frame["row_id"].tolist() == ["a", "b", "c"]
    assert table.frame["sex"].tolist() == ["f", "m", "unknown"]
    assert table.unknown_counts == {"sex": 1}
    assert table.labels == ["no", "yes"]


def test_chunks_cover_all_rows(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": [f"t{i}" for i in range(25)]}).to_csv(path, index=False)
    sizes = [len(c) for c in iter_chunks(path, 10)]
    assert sizes == [10, 10, 5]
    (tmp_path / "header.csv").write_text("text,label\n")
    with pytest.raises(BadInputError, match="no rows"):
        list(iter_chunks(tmp_path / "header.csv", 10))


def test_missing_file_empty_file_and_unknown_format(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(BadInputError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("text,label\n")
    with pytest.raises(BadInputError, match="no rows"):
        read_table(tmp_path / "header.csv")
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(BadInputError, match="format"):
        read_table(tmp_path / "x.xlsx")


def test_non_utf8_reports_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\nok,yes\ncaf\xe9,no\n".encode("latin-1"))
    with pytest.raises(BadInputError) as err:
        read_table(path)
    assert "not UTF-8" in err.value.message and "line 3" in err.value.message


def test_missing_columns_lists_what_exists(tmp_path):
    with pytest.raises(BadInputError) as err:
        validate_table(frame().drop(columns=["sex"]), MAPPING, where="f.csv")
    assert "['sex']" in err.value.message and "id, text, label" in err.value.fix


@pytest.mark.parametrize("bad,match", [
    ({"text": ["one", None, "x"]}, "empty or missing text"),
    ({"text": ["one", "   ", "x"]}, "empty or missing text"),
    ({"text": ["one", 5, "x"]}, "non-string"),
    ({"label": ["yes", None, "no"]}, "missing label"),
    ({"label": ["yes", "yes", "yes"]}, "single class"),
    ({"id": ["a", "a", "c"]}, "duplicate id"),
])
def test_bad_rows_are_rejected_with_row_numbers(bad, match):
    with pytest.raises(BadInputError, match=match):
        validate_table(frame(**bad), MAPPING, where="f.csv")


def test_unseen_labels_at_audit_time():
    with pytest.raises(BadInputError, match="not seen by the model"):
        validate_table(frame(label=["yes", "maybe", "no"]), MAPPING, where="f", role="eval", known_labels=["no", "yes"])


def test_error_messages_never_contain_cell_values():
    secret = "jane.doe@example.com"
    with pytest.raises(BadInputError) as err:
        validate_table(frame(text=[secret, 7, "x"]), MAPPING, where="f.csv")
    assert secret not in str(err.value)


def test_table_fingerprint_is_stable_and_order_sensitive(tmp_path):
    df = frame()
    assert table_sha256(df) == table_sha256(df.copy())
    assert table_sha256(df) == table_sha256(df[list(reversed(df.columns))])
    assert table_sha256(df) != table_sha256(df.iloc[::-1])
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    fp = fingerprint(path, df, role="train")
    assert fp.rows == 3 and len(fp.file_sha256) == 64 and fp.format == "csv"


def test_iter_columns_streams_only_the_asked_columns_in_exact_chunks(tmp_path):
    df = pd.DataFrame({"a": [f"x{i}" for i in range(1001)], "score": [i / 1000 for i in range(1001)],
                       "skip": ["unread"] * 1001, "note": ['has "quotes", commas\nand a newline'] * 1001})
    df.loc[[3, 4, 5, 6], "a"] = ["", "NA", "null", None]
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    assert column_names(path) == ["a", "score", "skip", "note"]
    chunks = list(iter_columns(path, 300, ["a", "score", "note"], floats=("score",)))
    assert [len(c) for c in chunks] == [300, 300, 300, 101] and list(chunks[0].columns) == ["a", "score", "note"]
    whole = pd.concat(chunks, ignore_index=True)
    assert whole["score"].dtype == "float64" and whole["score"].tolist() == df["score"].tolist()
    assert whole["a"].isna().tolist()[3:7] == [True] * 4 and whole["a"].iloc[7] == "x7"  # pandas' missing markers
    assert (whole["note"] == df["note"].iloc[0]).all()
    pandas_way = pd.concat(iter_chunks(path, 300), ignore_index=True)
    assert whole["a"].isna().equals(pandas_way["a"].isna())


def test_iter_columns_errors_name_rows_never_values(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,score\nok,0.5\nok,SECRET1\n")
    with pytest.raises(BadInputError, match=r"column 'score' holds a value that is not a number \(first at data row 2\)") as err:
        list(iter_columns(path, 100, ["a", "score"], floats=("score",)))
    assert "SECRET" not in str(err.value)
    path.write_text("a,score\nok,0.5\nSECRET2,0.1,SECRET3\n")
    with pytest.raises(BadInputError, match="data row 2 has 3 fields, the header has 2") as err:
        list(iter_columns(path, 100, ["a", "score"]))
    assert "SECRET" not in str(err.value) and str(path) + ":3" in str(err.value)
    path.write_text('a,score\nok,0.5\n"SECRET4,0.1\n')
    with pytest.raises(BadInputError, match="malformed CSV") as err:
        list(iter_columns(path, 100, ["a", "score"]))
    assert "SECRET" not in str(err.value)
    path.write_text("a,score\n")
    with pytest.raises(BadInputError, match="no rows"):
        list(iter_columns(path, 100, ["a"]))
