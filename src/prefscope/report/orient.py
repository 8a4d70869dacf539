"""Show every signed feature in the direction in which its description is positive.

A signed SAE feature has no preferred sign: training could as well have learned its negative,
and then the describer sees the pairs the other way round and writes the opposite
description (the lexical backend: ``uses fewer of the words "sorry"`` instead of ``uses the
words "sorry"``). A reader should not have to decode "fewer: sorry, coefficient +0.8"; the
report therefore flips such a feature once, here, and everything a reader sees (table, plots,
``features.tsv``, ``summary.json``, the pages) uses the flipped sign:

* the description and every candidate description are negated (``uses fewer of the`` <->
  ``uses the``), the short label is rebuilt from the flipped description;
* coef and z change sign, the CI is mirrored, the win rate of "the response with more of the
  feature" becomes that of the other response, Δ win rate changes sign;
* p, q, prevalence, activity counts and fidelity correlations do not change (the annotation of
  the negated description and the activation both change sign).

``orientation`` (+1 / -1) records the factor relating the shown feature to the SAE's latent,
so ``codes[:, j] * orientation`` is the activation in the shown direction. Free-text (LLM)
descriptions are never rewritten: only the lexical backend's exact "uses fewer of the"
phrasing is recognised, which is the only negation the workflow itself writes.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from prefscope.interpret.labels import shorten

_FEWER = re.compile(r"^(\s*)uses fewer of the\b", re.IGNORECASE)
_MORE = re.compile(r"^(\s*)uses the\b", re.IGNORECASE)

# column -> how it changes when the feature is flipped
_NEGATED = ("coef", "z", "delta_win_rate", "joint_coef", "joint_z")
# (low, high) interval columns, mirrored when flipped
_INTERVALS = (
    ("ci_low", "ci_high"),
    ("boot_ci_low", "boot_ci_high"),
    ("joint_ci_low", "joint_ci_high"),
    ("joint_boot_ci_low", "joint_boot_ci_high"),
)


def is_negated(description: str | None) -> bool:
    """True for a description of the form ``uses fewer of the ...``."""
    return bool(description) and bool(_FEWER.match(description))


def negate(description: str | None) -> str | None:
    """The description of the opposite direction (lexical phrasing), or the input unchanged
    when it is not in the lexical form (then ``None`` is never produced from text)."""
    if not description:
        return description
    if _FEWER.match(description):
        return _FEWER.sub(r"\1uses the", description, count=1)
    if _MORE.match(description):
        return _MORE.sub(r"\1uses fewer of the", description, count=1)
    return description


def orientation(descriptions: list[str | None]) -> np.ndarray:
    """+1 per feature, -1 where the chosen description is negated."""
    return np.array([-1 if is_negated(d) else 1 for d in descriptions], dtype=np.int64)


def orient_table(table: pl.DataFrame) -> pl.DataFrame:
    """The feature table in the shown direction, with an ``orientation`` column (see module)."""
    descriptions = (
        table.get_column("description").to_list()
        if "description" in table.columns
        else [None] * table.height
    )
    sign = orientation(descriptions)
    flip = pl.Series("orientation", sign)
    out = table.with_columns(flip)
    neg = pl.col("orientation") == -1
    exprs = [
        pl.when(neg).then(-pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in _NEGATED
        if c in table.columns
    ]
    for lo, hi in _INTERVALS:
        if lo in table.columns and hi in table.columns:
            exprs += [
                pl.when(neg).then(-pl.col(hi)).otherwise(pl.col(lo)).alias(lo),
                pl.when(neg).then(-pl.col(lo)).otherwise(pl.col(hi)).alias(hi),
            ]
    if "win_rate" in table.columns:
        exprs.append(
            pl.when(neg)
            .then(1.0 - pl.col("win_rate"))
            .otherwise(pl.col("win_rate"))
            .alias("win_rate")
        )
    out = out.with_columns(exprs)
    if "description" in table.columns:
        new_desc = [negate(d) if s < 0 else d for d, s in zip(descriptions, sign, strict=True)]
        out = out.with_columns(pl.Series("description", new_desc, dtype=pl.String))
        if "label" in table.columns:
            labels = out.get_column("label").to_list()
            new_labels = [
                shorten(d or "") if s < 0 else lab
                for d, lab, s in zip(new_desc, labels, sign, strict=True)
            ]
            out = out.with_columns(pl.Series("label", new_labels, dtype=pl.String))
    if "candidates" in table.columns:
        cands = out.get_column("candidates").to_list()
        new_cands = [
            [negate(c) for c in (cs or [])] if s < 0 else cs
            for cs, s in zip(cands, sign, strict=True)
        ]
        out = out.with_columns(pl.Series("candidates", new_cands, dtype=table.schema["candidates"]))
    return out


def orient_lasso(lasso: dict | None, sign: np.ndarray) -> dict | None:
    """Lasso subsets with their feature coefficients in the shown direction."""
    if not lasso:
        return lasso
    out = {}
    for name, subset in lasso.items():
        if not isinstance(subset, dict) or "features" not in subset or "coefs" not in subset:
            out[name] = subset
            continue
        coefs = [
            c * int(sign[int(f)]) if c is not None else None
            for f, c in zip(subset["features"], subset["coefs"], strict=True)
        ]
        out[name] = {**subset, "coefs": coefs}
    return out
