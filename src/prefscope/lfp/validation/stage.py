"""Stage of the ``lfp_validation`` rule: explain the overlapping features, and Table 7."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl

from prefscope.io import load_npy, read_json, write_json
from prefscope.lfp.harvest.activations import load_index, load_layer
from prefscope.lfp.saes.layer_saes import load_layer_saes
from prefscope.lfp.validation.explain import token_interp
from prefscope.lfp.validation.records import (
    explain_features,
    firing_frequencies,
    high_inputs,
    matched_table7,
    text_tokens,
)
from prefscope.sae import encode

log = logging.getLogger(__name__)


def lfp_validate(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Overlap + SAEs + harvest + probe -> explanations.json and validation.json."""
    from transformers import AutoTokenizer

    cfg = params["validation"]
    task = params["task"]
    overlap = read_json(inputs["overlap"])
    layers = overlap["layers"]
    saes = load_layer_saes(inputs["sae"], layers)
    tokenizer = AutoTokenizer.from_pretrained(str(inputs["policy"]))
    index = load_index(inputs["harvest"])
    rng = np.random.default_rng(cfg["seed"])
    texts = np.unique(index["seq"])
    if cfg["max_texts"] is not None and len(texts) > cfg["max_texts"]:
        texts = np.sort(rng.choice(texts, size=cfg["max_texts"], replace=False))
    rows = np.isin(index["seq"], texts)
    seq = index["seq"][rows]
    tokens = text_tokens(index["token"][rows], seq, tokenizer)
    interp = token_interp(cfg, task)

    explained: list[dict[str, Any]] = []
    for layer in layers:
        feats = overlap["per_layer"][str(layer)]["features"]
        if not feats:
            continue
        codes = encode(saes[layer], load_layer(inputs["harvest"], layer)[rows])
        for item in explain_features(
            interp,
            codes,
            seq,
            tokens,
            feats,
            cfg["task_description"][task],
            cfg["n_examples"],
            cfg["n_random"],
            cfg["seed"] + layer,
        ):
            explained.append({"layer": int(layer), **item})
    log.info(
        "%d features explained, %d relevant", len(explained), sum(f["relevant"] for f in explained)
    )

    meta = read_json(inputs["meta"])
    offsets = dict(zip(meta["layers"], meta["offsets"], strict=False))
    relevant_cols = [offsets[f["layer"]] + f["small"] for f in explained if f["relevant"]]
    x = load_npy(inputs["x"])
    predictions = pl.read_parquet(inputs["predictions"])
    high = high_inputs(predictions, task, cfg)
    freq = firing_frequencies(x, high, relevant_cols)
    freq["matched_control"] = matched_table7(
        x, high, relevant_cols, cfg["match_pool"], cfg["n_perm"], cfg["seed"]
    )
    scores = [f["simulation_score"] for f in explained]
    usage = interp.usage()
    write_json(
        outputs["explanations"],
        {"backend": cfg["backend"], "usage": usage, "features": explained},
    )
    write_json(
        outputs["validation"],
        {
            "backend": cfg["backend"],
            "n_explained": len(explained),
            "n_relevant": len(relevant_cols),
            "mean_simulation_score": float(np.mean(scores)) if scores else None,
            "table7": freq,
            "threshold": cfg["high_delta"] if task == "vader" else cfg["high_prob"],
            "usage": usage,
        },
    )
