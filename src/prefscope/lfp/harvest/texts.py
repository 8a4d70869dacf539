"""Which texts are harvested: exactly the distribution the probes later encode.

The corpus sentences (VADER task) or both responses of every preference pair (DPO/HH), so
the SAEs are trained on what they will be asked to encode; generated completions are not
added (they would mix in the policy's own sampling distribution, which the probe never sees).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from prefscope.errors import InputError
from prefscope.lfp.finetune.preferences import read_preference_pairs


def subsample(texts: list[str], max_texts: int | None, seed: int) -> list[str]:
    """A seeded subsample of at most ``max_texts`` texts, in their original order."""
    if max_texts is None or len(texts) <= max_texts:
        return texts
    keep = np.sort(np.random.default_rng(seed).choice(len(texts), size=max_texts, replace=False))
    return [texts[i] for i in keep]


def read_texts(path: str | Path, column: str, max_texts: int | None, seed: int) -> list[str]:
    """Texts to harvest from a parquet column; a seeded subsample when ``max_texts`` is set."""
    import polars as pl

    frame = pl.read_parquet(path)
    if column not in frame.columns:
        raise InputError(f"no column {column!r} (have {frame.columns})", file=str(path))
    return subsample([t for t in frame[column].to_list() if t], max_texts, seed)


def harvest_texts(inputs: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """Corpus sentences (VADER task) or both responses of each preference pair (DPO/HH)."""
    cfg = params["harvest"]
    max_texts, seed = cfg.get("max_texts"), cfg.get("seed", 0)
    if params["task"] == "vader":
        return read_texts(inputs["texts"], "text", max_texts, seed)
    pairs = read_preference_pairs(inputs["texts"])
    return subsample(pairs["chosen"].to_list() + pairs["rejected"].to_list(), max_texts, seed)
