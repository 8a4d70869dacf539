"""Pool several datasets into one table, and draw a balanced SAE training set from them.

One SAE trained on the differences of every dataset gives each feature one meaning across
datasets, which is what makes "preferred here, dispreferred there" a statement about the same
thing. A plain concatenation would let the largest dataset decide what the features are, so
each dataset contributes the same number of training rows (``balance``):

* ``subsample`` (default): every dataset is cut to the smallest one's count, without
  replacement; nothing is repeated, so no dataset's quirks are memorised.
* ``upsample``: every dataset is drawn up to the largest one's count, with replacement where
  it has fewer rows; no row is thrown away, small datasets repeat.

Validation rows (for early stopping) are balanced the same way, so the stopping point does
not favour the largest dataset either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from prefscope.errors import InputError

BALANCE_MODES = ("subsample", "upsample")
POOLED_COLUMNS = ("prompt", "response_A", "response_B", "label", "split", "dedup")


def pool_pairs(names: Sequence[str], tables: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Stack the pairs tables of ``names`` with ``dataset`` and ``source_pair_id`` columns.

    ``pair_id`` is renumbered 0..N-1 over the pooled rows (the interpret stages key examples
    by it); every column the per-dataset stages need is kept, plus the analysis controls
    that all datasets share.
    """
    if len(names) != len(tables):
        raise ValueError("one pairs table per dataset name")
    shared = set.intersection(*(set(t.columns) for t in tables)) if tables else set()
    extra = sorted(
        c
        for c in shared - {*POOLED_COLUMNS, "pair_id"}
        if all(t.schema[c].is_numeric() for t in tables)
    )
    parts = []
    for name, table in zip(names, tables, strict=True):
        missing = [c for c in (*POOLED_COLUMNS, "pair_id") if c not in table.columns]
        if missing:
            raise InputError(f"pairs table of dataset {name!r} lacks {missing}", column=missing[0])
        parts.append(
            table.select(
                pl.lit(name).alias("dataset"),
                pl.col("pair_id").cast(pl.Int64).alias("source_pair_id"),
                *[pl.col(c) for c in POOLED_COLUMNS],
                *[pl.col(c).cast(pl.Float64) for c in extra],
            )
        )
    pooled = pl.concat(parts, how="vertical_relaxed")
    return pooled.with_row_index("pair_id").with_columns(pl.col("pair_id").cast(pl.Int64))


@dataclass(frozen=True)
class BalancedRows:
    """Row positions (into the pooled table) drawn for SAE training and validation."""

    train: np.ndarray
    val: np.ndarray
    counts: dict[str, dict[str, int]]  # dataset -> available/used train/val rows


def _draw(rows: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if n == 0 or rows.size == 0:
        return rows[:0]
    return np.sort(rng.choice(rows, size=n, replace=rows.size < n))


def balanced_rows(pooled: pl.DataFrame, balance: str, seed: int) -> BalancedRows:
    """Deduplicated train and val rows with the same count from every dataset (seeded)."""
    if balance not in BALANCE_MODES:
        raise InputError(
            f"balance must be one of {BALANCE_MODES}, got {balance!r}", column="compare.balance"
        )
    dataset = pooled.get_column("dataset").to_numpy()
    split = pooled.get_column("split").to_numpy()
    dedup = pooled.get_column("dedup").to_numpy().astype(bool)
    names = list(dict.fromkeys(dataset.tolist()))
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {"train": [], "val": []}
    counts: dict[str, dict[str, int]] = {n: {} for n in names}
    for part in ("train", "val"):
        avail = {n: np.flatnonzero((dataset == n) & (split == part) & dedup) for n in names}
        empty = [n for n, a in avail.items() if a.size == 0]
        if part == "train" and empty:
            raise InputError(
                f"dataset(s) {empty} have no deduplicated train rows to pool", column="split"
            )
        sizes = [a.size for a in avail.values() if a.size] or [0]
        target = min(sizes) if balance == "subsample" else max(sizes)
        for n in names:
            # a dataset without val rows cannot be upsampled; the others still validate
            drawn = _draw(avail[n], target if avail[n].size else 0, rng)
            out[part].append(drawn)
            counts[n][f"n_{part}_available"] = int(avail[n].size)
            counts[n][f"n_{part}_used"] = int(drawn.size)
    return BalancedRows(
        train=np.concatenate(out["train"]), val=np.concatenate(out["val"]), counts=counts
    )
