"""Workflow stages of feature interpretation (branch W): ``explain`` writes candidate
descriptions of every SAE feature, ``fidelity`` scores them on held-out pairs.

The logic lives in :mod:`prefscope.interpret.explain` and :mod:`prefscope.interpret.fidelity`;
here are the file reading, the backends built from a rule's params, and the writing.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import polars as pl

from prefscope.errors import InputError
from prefscope.interpret.explain import explain_features
from prefscope.interpret.factory import make_backends
from prefscope.interpret.fidelity import bonferroni_threshold, fidelity_table
from prefscope.io import load_npy, read_json, write_json, write_parquet

log = logging.getLogger("prefscope.interpret")

PAIR_COLUMNS = ("pair_id", "prompt", "response_A", "response_B", "split", "dedup")


def load_pairs_and_codes(pairs_path: str, codes_path: str) -> tuple[pl.DataFrame, np.ndarray]:
    """Read the pairs table and the codes, checking that they belong together."""
    pairs = pl.read_parquet(pairs_path)
    for column in PAIR_COLUMNS:
        if column not in pairs.columns:
            raise InputError("missing column in the pairs table", file=pairs_path, column=column)
    codes = load_npy(codes_path)
    if codes.ndim != 2:
        raise InputError(
            f"codes must be a 2-D array [rows, features], got shape {codes.shape}", file=codes_path
        )
    if codes.shape[0] != pairs.height:
        raise InputError(
            f"codes have {codes.shape[0]} rows but the pairs table has {pairs.height}",
            file=codes_path,
        )
    if not np.isfinite(codes).all():
        bad = int(np.argwhere(~np.isfinite(codes))[0, 0])
        raise InputError("codes contain NaN or infinite values", file=codes_path, row=bad + 1)
    return pairs, codes


def background_texts(pairs: pl.DataFrame) -> list[str]:
    """Every response of the deduplicated rows: the lexical backend's prior corpus."""
    dedup = pairs.filter(pl.col("dedup"))
    return dedup.get_column("response_A").to_list() + dedup.get_column("response_B").to_list()


def stage_backends(pairs: pl.DataFrame, params: dict) -> tuple[Any, Any]:
    """(describer, annotator) from a rule's params, as the explain and fidelity stages use them."""
    return make_backends(
        params["backend"],
        params.get("annotator"),
        dict(params.get("llm") or {}),
        background_texts(pairs),
        cache_path=params.get("cache_path"),
    )


def explain(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Stage: write ``explanations.json`` (candidates per feature, usage, settings)."""
    pairs, codes = load_pairs_and_codes(str(inputs["pairs"]), str(inputs["codes"]))
    describer, _ = stage_backends(pairs, params)
    features = explain_features(pairs, codes, describer, params)
    n_dead = sum(1 for f in features if not f["n_nonzero"])
    log.info(
        "explained %d features (%d never fire on train rows) with %s",
        len(features),
        n_dead,
        describer.name,
    )
    write_json(
        outputs["explanations"],
        {"features": features, "usage": describer.usage(), "settings": dict(params)},
    )


def fidelity(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Stage: write ``fidelity.parquet`` (per feature) and ``fidelity.json`` (summary)."""
    pairs, codes = load_pairs_and_codes(str(inputs["pairs"]), str(inputs["codes"]))
    explanations = read_json(inputs["explanations"])
    describer, annotator = stage_backends(pairs, params)
    table = fidelity_table(
        pairs, codes, explanations, describer, annotator, params, source=str(inputs["explanations"])
    )
    r = table.get_column("fidelity_r").drop_nans().drop_nulls()
    summary = {
        "n_features": table.height,
        "n_described": int((table.get_column("candidates").list.len() > 0).sum()),
        "n_kept": int(table.get_column("kept").sum()),
        "mean_abs_r": float(r.abs().mean()) if len(r) else math.nan,
        "bonferroni_threshold": bonferroni_threshold(float(params["fidelity_alpha"]), table.height),
        "usage": {"describer": describer.usage(), "annotator": annotator.usage()},
    }
    write_parquet(outputs["table"], table)
    write_json(outputs["stats"], summary)
    log.info(
        "fidelity: kept %d of %d features (mean |r| %.3f)",
        summary["n_kept"],
        summary["n_features"],
        summary["mean_abs_r"],
    )
