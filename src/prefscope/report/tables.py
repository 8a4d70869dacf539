"""The joined per-feature table: label effects, fidelity and descriptions side by side."""

from __future__ import annotations

import polars as pl

from prefscope.report.orient import orient_table


def feature_table(analysis: pl.DataFrame, fidelity: pl.DataFrame) -> pl.DataFrame:
    """One row per SAE feature, in the direction its description names (see
    :mod:`prefscope.report.orient`), sorted by |coef| among significant ones first."""
    wanted = ("feature", "label", "description", "fidelity_r", "fidelity_p", "kept",
              "candidates", "candidate_r")
    fid = fidelity.select([c for c in wanted if c in fidelity.columns])
    table = orient_table(analysis.join(fid, on="feature", how="left"))
    return table.sort(
        [pl.col("significant").not_(), pl.col("coef").abs()],
        descending=[False, True],
        nulls_last=True,
    )


def flat_for_tsv(table: pl.DataFrame) -> pl.DataFrame:
    """TSV cannot hold lists; keep scalar columns only."""
    return table.select(
        [c for c, t in zip(table.columns, table.dtypes, strict=True) if not isinstance(t, pl.List)]
    )
