"""Stages of the ``lfp_probe`` rules: contrastive triples, activation deltas, the probe.

The probe is fitted on the deltas and scored with its controls (paper Tables 3–5, 10): the
base model's deltas through the same SAEs, and a sign-only baseline for the within-sign tau.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl

from prefscope.io import load_npy, save_npy, write_json, write_parquet
from prefscope.lfp.finetune.preferences import read_preference_pairs
from prefscope.lfp.layers.divergence import chosen_layers
from prefscope.lfp.models import load_model
from prefscope.lfp.plots import pca_plot
from prefscope.lfp.probe.deltas import DeltaConfig, build_inputs
from prefscope.lfp.probe.evaluate import (
    base_model_pairs,
    base_model_vader,
    pair_probe,
    same_triples,
    vader_probe,
)
from prefscope.lfp.probe.probes import ProbeConfig, pca_2d
from prefscope.lfp.probe.triples import (
    TripleConfig,
    pair_triples,
    rewrite_stage_triples,
    vader_triples,
)
from prefscope.lfp.saes.layer_saes import load_layer_saes

log = logging.getLogger(__name__)


def lfp_triples(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Workflow stage: corpus sentences or preference pairs -> ``triples.parquet``."""
    cfg = TripleConfig(**params["triples"])
    if params["task"] == "vader":
        triples = vader_triples(pl.read_parquet(inputs["texts"]), cfg)
    elif cfg.rewrite_backend:
        triples = rewrite_stage_triples(read_preference_pairs(inputs["texts"]), cfg, params)
    else:
        triples = pair_triples(read_preference_pairs(inputs["texts"]), cfg)
    write_parquet(outputs["triples"], triples)


def lfp_deltas(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Workflow stage: policy + small SAEs + triples -> ``X.npy``, ``inputs.parquet``, meta."""
    layers = chosen_layers(inputs["divergence"])
    saes = load_layer_saes(inputs["sae"], layers)
    model, tokenizer = load_model(inputs["policy"])
    triples = pl.read_parquet(inputs["triples"])
    x, table = build_inputs(
        model, tokenizer, triples, layers, saes, params["task"], DeltaConfig(**params["deltas"])
    )
    widths = [int(saes[layer].decoder_directions().shape[0]) for layer in layers]
    save_npy(outputs["x"], x)
    write_parquet(outputs["inputs"], table)
    write_json(
        outputs["meta"],
        {
            "layers": layers,
            "n_latents": widths,
            "offsets": np.cumsum([0, *widths]).tolist(),
            "n_inputs": int(x.shape[0]),
            "n_triples_used": int(x.shape[0] // 2),
            "n_triples": int(triples.height),
        },
    )


def lfp_probe(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Probe inputs -> probe.json, predictions.parquet (+ per_word.parquet), pca.png."""
    cfg = ProbeConfig(**params["probe"])
    x = load_npy(inputs["x"])
    table = pl.read_parquet(inputs["inputs"])
    base_x = load_npy(inputs["base_x"])
    base_table = pl.read_parquet(inputs["base_inputs"])
    same_triples(table, base_table, inputs["base_inputs"])
    if params["task"] == "vader":
        result, per_input, per_word = vader_probe(x, table, cfg)
        base_result, _, base_words = vader_probe(base_x, base_table, cfg)
        control = base_model_vader(per_word, base_words, cfg)
        base_pred = base_words.select("word", pl.col("pred").alias("base_model_pred"))
        write_parquet(outputs["per_word"], per_word.join(base_pred, on="word", how="left"))
    else:
        result, per_input = pair_probe(x, table, cfg)
        base_result, base_per_input = pair_probe(base_x, base_table, cfg)
        control = base_model_pairs(per_input, base_per_input, cfg)
        write_parquet(outputs["per_word"], pl.DataFrame({"word": [], "value": [], "pred": []}))
    # the same recipe on the pre-RL base model (activations through the policy's SAEs)
    control["probe"] = {k: v for k, v in base_result.items() if "kendall" in k or "accuracy" in k}
    result["controls"] = {"base_model": control}
    proj, explained = pca_2d(x, cfg.seed)
    result["pca_explained_variance"] = explained
    labels = table["kind"].replace({"pos": "positive / chosen", "neg": "negative / rejected"})
    pca_plot(proj, labels.to_list(), explained, "PCA of probe inputs", outputs["pca"])
    write_parquet(outputs["predictions"], per_input)
    write_json(outputs["probe"], result)
    log.info("probe: %s", {k: v for k, v in result.items() if "kendall" in k or "accuracy" in k})
