"""Read and validate a preference table into prefscope's canonical pairs schema.

Every problem is reported with the file, the 1-based data row and the column, and nothing
is silently dropped: a bad row stops the run so the user can fix the data, rather than
producing statistics over a quietly different dataset.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

import polars as pl

from prefscope.errors import InputError

REQUIRED = ("prompt", "response_A", "response_B", "label")
TIE_STRINGS = {"tie", "equal", "draw", "none", "null", "nan", ""}


def read_table(source: str) -> pl.DataFrame:
    """Load Parquet / JSONL / JSON / CSV by extension, or ``hf:<id>[:<split>]``."""
    if source.startswith("hf:"):
        return _read_hub(source)
    path = Path(source)
    if not path.is_file():
        raise InputError("file does not exist or is not a regular file", file=source)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix == ".jsonl":
            try:
                return pl.read_ndjson(path, infer_schema_length=None)
            except Exception:
                _locate_jsonl_error(path, source)  # raises with the line, if it finds one
                raise
        if suffix == ".json":
            try:
                return pl.read_ndjson(path, infer_schema_length=None)
            except Exception:
                return pl.read_json(path, infer_schema_length=None)
        if suffix in (".csv", ".tsv"):
            separator = "\t" if suffix == ".tsv" else ","
            _check_header(path, source, separator)
            return pl.read_csv(path, separator=separator, infer_schema_length=0)
    except InputError:
        raise
    except Exception as exc:  # polars raises several types; the user needs the file name
        raise InputError(f"cannot read as {suffix[1:]}: {exc}", file=source) from exc
    raise InputError(
        f"unsupported file type {suffix!r} (use .parquet, .jsonl, .json, .csv or .tsv)",
        file=source,
    )


def _locate_jsonl_error(path: Path, source: str) -> None:
    """Raise :class:`InputError` naming the first JSONL line that is not UTF-8 or not JSON.

    Polars reports byte offsets ("line 0", "Syntax at character 0"); users count lines. Lines
    are 1-based; blank lines are skipped as polars skips them.
    """
    lines = path.read_bytes().split(b"\n")
    last = max((i for i, line in enumerate(lines, start=1) if line.strip()), default=0)
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"cannot read as jsonl: line {number}: not valid UTF-8 "
                f"(byte 0x{line[exc.start]:02x} at column {exc.start + 1}); "
                "re-encode the file as UTF-8",
                file=source,
            ) from None
        if not text.strip():
            continue
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            hint = " (the last line looks truncated)" if number == last else ""
            raise InputError(
                f"cannot read as jsonl: line {number}: not a JSON object: {exc.msg} "
                f"(column {exc.colno}){hint}",
                file=source,
            ) from None


def _check_header(path: Path, source: str, separator: str) -> None:
    """A CSV header naming a column twice is an error (polars would rename the second)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh, delimiter=separator), [])
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name in seen:
            raise InputError(
                f"duplicate column name in the header (columns {seen[name]} and {position})",
                file=source,
                column=name,
            )
        seen[name] = position


def _read_hub(source: str) -> pl.DataFrame:
    spec = source[3:]
    name, _, split = spec.partition(":")
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        raise InputError(
            "a Hugging Face dataset id needs the network, but HF_HUB_OFFLINE/HF_DATASETS_OFFLINE "
            "is set; download it and point `source` at a local file instead",
            file=source,
        )
    from datasets import load_dataset

    try:
        ds = load_dataset(name, split=split or "train")
    except Exception as exc:
        raise InputError(f"cannot load Hugging Face dataset: {exc}", file=source) from exc
    return pl.from_arrow(ds.data.table)  # type: ignore[return-value]


def _label_value(value: Any, *, file: str, row: int, column: str) -> int | None:
    """Map a raw label to 1 (A preferred), 0 (B preferred) or None (tie / not binary)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return None
        if value in (0, 1):
            return int(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "1.0", "a", "true"):
            return 1
        if text in ("0", "0.0", "b", "false"):
            return 0
        if text in TIE_STRINGS:
            return None
    raise InputError(
        f"label must be 1 (A preferred), 0 (B preferred), or null/'tie'; got {value!r}",
        file=file, row=row, column=column,
    )


def validate_pairs(raw: pl.DataFrame, source: str, columns: dict[str, str]) -> pl.DataFrame:
    """Return the canonical columns; raise :class:`InputError` on the first bad cell."""
    names = {key: columns.get(key, key) for key in (*REQUIRED, "conversation_id")}
    for key in REQUIRED:
        if names[key] not in raw.columns:
            raise InputError(
                f"missing required column (have: {', '.join(raw.columns)})",
                file=source, column=names[key],
            )
    if raw.height == 0:
        raise InputError("the table has no rows", file=source)
    out: dict[str, list[Any]] = {k: [] for k in REQUIRED}
    for key in ("prompt", "response_A", "response_B"):
        col = raw.get_column(names[key])
        values = col.to_list()
        for i, v in enumerate(values, start=1):
            if v is None:
                raise InputError("value is null", file=source, row=i, column=names[key])
            if not isinstance(v, str):
                raise InputError(
                    f"expected text, got {type(v).__name__}", file=source, row=i,
                    column=names[key],
                )
            if key != "prompt" and not v.strip():
                raise InputError("response is empty", file=source, row=i, column=names[key])
        out[key] = values
    out["label"] = [
        _label_value(v, file=source, row=i, column=names["label"])
        for i, v in enumerate(raw.get_column(names["label"]).to_list(), start=1)
    ]
    frame = pl.DataFrame(
        out,
        schema={"prompt": pl.String, "response_A": pl.String, "response_B": pl.String,
                "label": pl.Int8},
    )
    if names["conversation_id"] in raw.columns:
        frame = frame.with_columns(
            raw.get_column(names["conversation_id"]).cast(pl.String).alias("conversation_id")
        )
    if "length_delta" in raw.columns:
        frame = frame.with_columns(_checked_length_delta(raw, source))
    else:
        frame = frame.with_columns(
            pl.Series(
                "length_delta",
                [float(len(a.split()) - len(b.split()))
                 for a, b in zip(out["response_A"], out["response_B"], strict=True)],
            )
        )
    return frame


def _checked_length_delta(raw: pl.DataFrame, source: str) -> pl.Series:
    values = raw.get_column("length_delta").to_list()
    clean: list[float] = []
    for i, v in enumerate(values, start=1):
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise InputError(
                f"length_delta must be a number, got {v!r}", file=source, row=i,
                column="length_delta",
            ) from None
        if math.isnan(x):
            raise InputError("length_delta is NaN", file=source, row=i, column="length_delta")
        clean.append(x)
    return pl.Series("length_delta", clean, dtype=pl.Float64)


def mark_identical(frame: pl.DataFrame) -> pl.DataFrame:
    """Flag rows whose two responses are the same text (``identical``).

    Such a row compares nothing: its embedding difference is zero and its label is noise.
    It stays in the table (and is counted) but is not deduplicated (``dedup`` False, so the
    SAE and the interpretation skip it) and its label is set to null (label statistics skip it).
    """
    same = (frame.get_column("response_A") == frame.get_column("response_B")).alias("identical")
    return frame.with_columns(
        same,
        pl.when(same).then(False).otherwise(pl.col("dedup")).alias("dedup"),
        pl.when(same).then(None).otherwise(pl.col("label")).cast(pl.Int8).alias("label"),
    )


def check_analysable(pairs: pl.DataFrame, source: str, min_per_class: int) -> None:
    """Refuse a dataset whose train or val split has too few labelled rows of either class.

    Held-out AUCs and per-feature statistics need both outcomes on both sides of the split;
    stopping here, before embedding and SAE training, names the numbers to fix.
    """
    counts = {
        (split, label): int(
            ((pairs.get_column("split") == split) & (pairs.get_column("label") == label)).sum()
        )
        for split in ("train", "val")
        for label in (1, 0)
    }
    short = {key: n for key, n in counts.items() if n < min_per_class}
    if short:
        found = ", ".join(
            f"{split}: {counts[(split, 1)]} A-preferred / {counts[(split, 0)]} B-preferred"
            for split in ("train", "val")
        )
        raise InputError(
            f"dataset too small or one-sided to analyse: {pairs.height} rows, {found} "
            f"labelled rows (ties and identical responses excluded); each split needs at least "
            f"{min_per_class} of each class (datasets.<name>.min_rows_per_class)",
            file=source,
        )


def mark_duplicates(frame: pl.DataFrame) -> pl.DataFrame:
    """Flag the first row of each unordered {A, B} pair (``dedup``); later repeats are False.

    Repeats stay in the table: several annotators judging the same pair is label information,
    but the SAE should not see the same difference vector twice.
    """
    a, b = frame.get_column("response_A"), frame.get_column("response_B")
    lo = pl.select(pl.min_horizontal(a, b)).to_series()
    hi = pl.select(pl.max_horizontal(a, b)).to_series()
    key = pl.DataFrame({"lo": lo, "hi": hi}).with_row_index("i")
    first = key.group_by(["lo", "hi"], maintain_order=True).agg(pl.col("i").min())["i"]
    mask = pl.Series("dedup", [False] * frame.height)
    mask = mask.scatter(first.to_list(), True)
    return frame.with_columns(mask)
