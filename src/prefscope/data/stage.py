"""Workflow stages of the data module: the synthetic demo and ingest."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl

from prefscope.data.demo import DemoTruth, generate_demo
from prefscope.data.download import download
from prefscope.data.ingest import (
    check_analysable,
    mark_duplicates,
    mark_identical,
    read_table,
    validate_pairs,
)
from prefscope.data.split import component_split, connected_components
from prefscope.errors import InputError
from prefscope.io import write_json, write_parquet

log = logging.getLogger("prefscope.data")


def demo_pairs(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Generate the planted-concept demo table and its ground truth."""
    try:
        planted = DemoTruth.from_config(params.get("truth"))
    except ValueError as err:
        raise InputError(str(err), column="demo.truth") from err
    pairs, indicators, truth = generate_demo(int(params["n_pairs"]), int(params["seed"]), planted)
    write_parquet(outputs["table"], pairs)
    write_parquet(outputs["concepts"], indicators)
    write_json(outputs["truth"], truth)
    log.info("demo: %d pairs, concepts %s", pairs.height, ", ".join(truth["concepts"]))


def fetch_source(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Download a URL source once; ``ingest`` reads the local copy."""
    download(params["url"], outputs["table"])


def _split_frame(raw: pl.DataFrame, pairs: pl.DataFrame, columns: list[str], source: str):
    cols = {}
    for c in columns:
        if c in pairs.columns:
            cols[c] = pairs.get_column(c)
        elif c in raw.columns:
            cols[c] = raw.get_column(c).cast(pl.String)
        else:
            raise InputError("split column not found in the table", file=source, column=c)
    return pl.DataFrame(cols) if cols else pl.DataFrame({"_row": np.arange(pairs.height)})


def _clusters(pairs: pl.DataFrame, split_frame: pl.DataFrame) -> np.ndarray:
    """Cluster id per row for clustered statistics: the split's connected components, with
    repeats of one unordered {A, B} pair always linked (they are one comparison judged again,
    not independent evidence, even when no split column links them)."""
    a, b = pairs.get_column("response_A"), pairs.get_column("response_B")
    key = pl.select(
        pl.concat_str([pl.min_horizontal(a, b), pl.max_horizontal(a, b)], separator="\u0000")
    ).to_series()
    frame = split_frame.with_columns(key.alias("_pair_key"))
    return connected_components(frame, frame.columns)


def ingest(inputs: dict, outputs: dict, params: dict[str, Any], threads: int) -> None:
    """Validate, deduplicate and split one dataset into ``pairs.parquet``."""
    source = inputs.get("table") or params["source"]
    raw = read_table(str(source))
    pairs = validate_pairs(raw, str(source), params.get("columns") or {})
    split_cols = list(params["split_columns"])
    split_frame = _split_frame(raw, pairs, split_cols, str(source))
    if params.get("max_rows") and pairs.height > int(params["max_rows"]):
        keep = np.sort(
            np.random.default_rng(int(params["seed"])).choice(
                pairs.height, int(params["max_rows"]), replace=False
            )
        )
        pairs, split_frame = pairs[keep], split_frame[keep]
    pairs = pairs.with_row_index("pair_id").with_columns(pl.col("pair_id").cast(pl.Int64))
    is_train = component_split(
        split_frame, split_frame.columns, float(params["train_fraction"]), int(params["seed"])
    )
    pairs = pairs.with_columns(
        pl.Series("split", np.where(is_train, "train", "val")),
        pl.Series("component", _clusters(pairs, split_frame), dtype=pl.Int64),
    )
    pairs = mark_identical(mark_duplicates(pairs))
    n_identical = int(pairs.get_column("identical").sum())
    if n_identical:
        log.warning(
            "%s: %d of %d rows have response_A identical to response_B; they are kept in "
            "pairs.parquet but excluded from the SAE, the interpretation and the label "
            "statistics (ingest.json: n_identical_rows)",
            source,
            n_identical,
            pairs.height,
        )
    check_analysable(pairs, str(params["source"]), int(params.get("min_rows_per_class", 10)))
    write_parquet(outputs["pairs"], pairs)
    labels = pairs.get_column("label")
    stats = {
        "source": str(params["source"]),
        "n_rows": pairs.height,
        "n_label_A": int((labels == 1).sum()),
        "n_label_B": int((labels == 0).sum()),
        "n_label_other": int(labels.is_null().sum()),
        "n_identical_rows": n_identical,
        "n_duplicate_rows": int(
            (~pairs.get_column("dedup") & ~pairs.get_column("identical")).sum()
        ),
        "n_components": int(connected_components(split_frame, split_frame.columns).max() + 1),
        "split_columns": split_cols,
        "n_train": int(is_train.sum()),
        "n_val": int((~is_train).sum()),
    }
    write_json(outputs["stats"], stats)
    log.info("ingested %s", stats)
