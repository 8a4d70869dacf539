"""Candidate descriptions of every SAE feature (branch W, "Explain"; stage:
:func:`prefscope.interpret.stage.explain`).

For feature ``j`` and candidate ``c``, ``n_examples`` pairs are drawn from the top
``top_percentile`` bin of the nonzero ``|z_j|`` among TRAIN-split deduplicated rows (seeded by
(seed, j, c), so each candidate sees its own draw), oriented so that A has more of the
feature, truncated to ``max_words`` and handed to the describer, which returns one
description per candidate. Features that never fire on that pool get no candidates; the
fidelity stage reports them as dead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from prefscope.errors import InputError
from prefscope.interpret.backend import PairText
from prefscope.interpret.sampling import derived_seed, pair_text, sample_examples


def pool(pairs: pl.DataFrame, split: str) -> np.ndarray:
    """Row positions of the deduplicated rows of one split."""
    mask = (pairs.get_column("split") == split) & pairs.get_column("dedup")
    return np.flatnonzero(mask.to_numpy())


def oriented_examples(
    pairs: pl.DataFrame, rows: np.ndarray, z: np.ndarray, max_words: int
) -> list[PairText]:
    """The rows as PairTexts with A = the side with more of the feature (swap where z < 0)."""
    sub = pairs[rows].select("prompt", "response_A", "response_B")
    return [
        pair_text(p, a, b, max_words=max_words, swap=bool(zi < 0))
        for (p, a, b), zi in zip(sub.iter_rows(), z, strict=True)
    ]


def explain_features(
    pairs: pl.DataFrame, codes: np.ndarray, describer: Any, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """One record per feature: candidates, the pair_ids behind each, nonzero count."""
    n_candidates, n_examples = int(params["n_candidates"]), int(params["n_examples"])
    max_words, seed = int(params["max_words"]), int(params["seed"])
    percentile = [float(x) for x in params["top_percentile"]]
    train = pool(pairs, "train")
    if len(train) == 0:
        raise InputError("no deduplicated train rows to draw examples from", column="split")
    pair_ids = pairs.get_column("pair_id").to_numpy()
    records = []
    for j in tqdm(range(codes.shape[1]), desc="explain", unit="feature"):
        z = codes[:, j]
        n_nonzero = int(np.count_nonzero(z[train]))
        record: dict[str, Any] = {
            "feature": j,
            "candidates": [],
            "examples": [],
            "n_nonzero": n_nonzero,
        }
        if n_nonzero:
            samples = [
                sample_examples(
                    z, n_examples, percentile, seed=seed, feature=j, candidate=c, pool=train
                )
                for c in range(n_candidates)
            ]
            examples = [oriented_examples(pairs, s.rows, s.z, max_words) for s in samples]
            candidates = describer.describe(examples, seed=derived_seed(seed, j))
            if len(candidates) != n_candidates:
                raise RuntimeError(
                    f"describer {describer.name!r} returned {len(candidates)} descriptions "
                    f"for {n_candidates} example sets (feature {j})"
                )
            record["candidates"] = [str(c) for c in candidates]
            record["examples"] = [[int(pair_ids[r]) for r in s.rows] for s in samples]
        records.append(record)
    return records
