"""Ingest refuses data it cannot analyse and names where the problem is (issue 13)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from prefscope.data.ingest import read_table
from prefscope.data.stage import ingest
from prefscope.errors import InputError


def _rows(n: int, label=lambda i: i % 2, same=lambda i: False) -> list[dict]:
    return [
        {
            "prompt": f"prompt {i}",
            "response_A": f"answer {i}" if not same(i) else f"same {i}",
            "response_B": f"other reply {i}" if not same(i) else f"same {i}",
            "label": label(i),
        }
        for i in range(n)
    ]


def _run(tmp_path, rows, **params):
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    outputs = {"pairs": tmp_path / "out/pairs.parquet", "stats": tmp_path / "out/ingest.json"}
    full = {
        "source": str(path),
        "split_columns": ["prompt"],
        "train_fraction": 0.5,
        "seed": 0,
        "max_rows": None,
        "min_rows_per_class": 5,
        **params,
    }
    ingest({"table": str(path)}, outputs, full, 1)
    return outputs


@pytest.mark.parametrize(
    ("rows", "numbers"),
    [
        (_rows(10), "10 rows"),  # too small: ~2-3 of each class per split
        (_rows(200, label=lambda i: 1), "0 B-preferred"),  # one-sided
        (_rows(200, label=lambda i: None), "0 A-preferred / 0 B-preferred"),  # all ties
    ],
    ids=["ten-rows", "one-sided", "all-ties"],
)
def test_too_small_or_one_sided_dataset_is_refused_with_numbers(tmp_path, rows, numbers):
    with pytest.raises(InputError, match="too small or one-sided") as err:
        _run(tmp_path, rows)
    message = str(err.value)
    assert str(tmp_path / "pairs.jsonl") in message and numbers in message
    assert "at least 5 of each class" in message
    assert not (tmp_path / "out/pairs.parquet").exists()


def test_minimum_is_configurable(tmp_path):
    outputs = _run(tmp_path, _rows(10), min_rows_per_class=1)
    assert json.loads(outputs["stats"].read_text())["n_rows"] == 10


def test_identical_responses_are_counted_warned_and_excluded(tmp_path, caplog):
    rows = _rows(100, same=lambda i: i % 10 == 0)  # 10 rows with A == B
    outputs = _run(tmp_path, rows)
    stats = json.loads(outputs["stats"].read_text())
    pairs = pl.read_parquet(outputs["pairs"])
    assert stats["n_identical_rows"] == 10 and stats["n_rows"] == 100
    assert stats["n_label_A"] + stats["n_label_B"] == 90  # label statistics skip them
    identical = pairs.filter(pl.col("identical"))
    assert identical.height == 10
    assert identical["label"].null_count() == 10  # analyze uses labels 0/1 only
    assert not identical["dedup"].any()  # the SAE and interpretation use dedup rows only
    assert pairs.filter(~pl.col("identical"))["dedup"].all()
    assert any("10 of 100 rows have response_A identical" in r.message for r in caplog.records)


def test_jsonl_non_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    lines = [json.dumps(r).encode() for r in _rows(10)]
    lines[7] = lines[7].replace(b"answer", b"answ\xe9r")  # latin-1 byte on line 8
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(InputError, match=r"line 8: not valid UTF-8 \(byte 0xe9") as err:
        read_table(str(path))
    assert str(path) in str(err.value)


def test_jsonl_truncated_last_line_names_the_line(tmp_path):
    path = tmp_path / "cut.jsonl"
    text = "\n".join(json.dumps(r) for r in _rows(6))
    path.write_text(text[:-15])  # the writer died mid-record
    with pytest.raises(InputError, match=r"line 6: not a JSON object: .*truncated") as err:
        read_table(str(path))
    assert str(path) in str(err.value)


def test_csv_duplicate_column_name_is_an_error(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("prompt,response_A,response_B,label,response_A\np,a,b,1,c\n")
    with pytest.raises(InputError, match=r"duplicate column name.*columns 2 and 5") as err:
        read_table(str(path))
    assert err.value.column == "response_A" and str(path) in str(err.value)
