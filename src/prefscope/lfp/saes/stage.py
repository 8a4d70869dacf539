"""Stages of the ``lfp_saes`` rules: per-layer SAEs on the harvest, and their overlap."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from prefscope.io import write_json
from prefscope.lfp.harvest.activations import load_index, load_layer, load_manifest
from prefscope.lfp.layers.divergence import chosen_layers
from prefscope.lfp.saes.layer_saes import load_layer_saes, size_latents, train_layer_sae
from prefscope.lfp.saes.overlap import overlap
from prefscope.sae import save_sae

log = logging.getLogger(__name__)


def lfp_sae(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Workflow stage: harvest shards -> ``sae/{size}/layer_<L>/`` for every chosen layer."""
    manifest = load_manifest(inputs["harvest"])
    seq = load_index(inputs["harvest"])["seq"]
    out = Path(outputs["sae"])
    out.mkdir(parents=True, exist_ok=True)
    per_layer = {}
    for layer in manifest["layers"]:
        x = load_layer(inputs["harvest"], layer)
        n_latents = size_latents(manifest["d_model"], params["sae"]["multiple"], params["size"])
        log.info("layer %d: %d rows -> %d latents", layer, x.shape[0], n_latents)
        model, metrics = train_layer_sae(x, seq, n_latents, params["sae"])
        save_sae(model, out / f"layer_{layer}")
        per_layer[str(layer)] = metrics
    write_json(out / "metrics.json", {"size": params["size"], "layers": per_layer})


def lfp_overlap(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Workflow stage: small + big SAEs -> ``overlap.json`` (MMCS + features per layer)."""
    layers = chosen_layers(inputs["divergence"])
    small = load_layer_saes(inputs["small"], layers)
    big = load_layer_saes(inputs["big"], layers)
    cfg = params["overlap"]
    result = {
        str(layer): overlap(
            small[layer].decoder_directions(),
            big[layer].decoder_directions(),
            cfg["min_cos"],
            cfg["top_k"],
        )
        for layer in layers
    }
    write_json(outputs["overlap"], {"layers": layers, "per_layer": result})
