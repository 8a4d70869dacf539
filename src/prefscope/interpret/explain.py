"""Workflow stage: candidate descriptions of every SAE feature (branch W, "Explain").

For feature ``j`` and candidate ``c``, ``n_examples`` pairs are drawn from the top
``top_percentile`` bin of the nonzero ``|z_j|`` among TRAIN-split deduplicated rows (seeded by
(seed, j, c), so each candidate sees its own draw), oriented so that A has more of the
feature, truncated to ``max_words`` and handed to the describer, which returns one
description per candidate. Features that never fire on that pool get no candidates; the
fidelity stage reports them as dead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from prefscope.errors import InputError
from prefscope.interpret.backend import Annotator, Describer, PairText
from prefscope.interpret.lexical import LexicalBackend
from prefscope.interpret.sampling import derived_seed, pair_text, sample_examples
from prefscope.io import load_npy, write_json

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
        raise InputError(f"codes must be a 2-D array [rows, features], got shape {codes.shape}",
                         file=codes_path)
    if codes.shape[0] != pairs.height:
        raise InputError(
            f"codes have {codes.shape[0]} rows but the pairs table has {pairs.height}",
            file=codes_path,
        )
    if not np.isfinite(codes).all():
        bad = int(np.argwhere(~np.isfinite(codes))[0, 0])
        raise InputError("codes contain NaN or infinite values", file=codes_path, row=bad + 1)
    return pairs, codes


def pool(pairs: pl.DataFrame, split: str) -> np.ndarray:
    """Row positions of the deduplicated rows of one split."""
    mask = (pairs.get_column("split") == split) & pairs.get_column("dedup")
    return np.flatnonzero(mask.to_numpy())


def background_texts(pairs: pl.DataFrame) -> list[str]:
    """Every response of the deduplicated rows: the lexical backend's prior corpus."""
    dedup = pairs.filter(pl.col("dedup"))
    return dedup.get_column("response_A").to_list() + dedup.get_column("response_B").to_list()


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
        record: dict[str, Any] = {"feature": j, "candidates": [], "examples": [],
                                  "n_nonzero": n_nonzero}
        if n_nonzero:
            samples = [
                sample_examples(z, n_examples, percentile, seed=seed, feature=j, candidate=c,
                                pool=train)
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


def make_backends(
    describer: str,
    annotator: str | None,
    llm_config: dict[str, Any],
    background: Sequence[str],
    cache_path: str | None = None,
) -> tuple[Describer, Annotator]:
    """Build the describer and annotator named in the config.

    ``lexical`` needs ``background`` (all responses of the dataset) for its prior; any other
    name is looked up in ``llm_config["backends"]`` by :mod:`prefscope.llm` (imported lazily so
    the offline path never imports HTTP clients or vLLM).
    """
    annotator = annotator or describer
    built: dict[str, Any] = {}

    def build(name: str) -> Any:
        if name not in built:
            if name == "lexical":
                built[name] = LexicalBackend(background)
            else:
                from prefscope.llm import make_feature_backend

                built[name] = make_feature_backend(name, llm_config, cache_path=cache_path)
        return built[name]

    return build(describer), build(annotator)


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
    log.info("explained %d features (%d never fire on train rows) with %s",
             len(features), n_dead, describer.name)
    write_json(
        outputs["explanations"],
        {"features": features, "usage": describer.usage(), "settings": dict(params)},
    )
