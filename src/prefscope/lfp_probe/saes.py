"""Per-layer SAEs of sizes n and 2n on harvested MLP outputs, and their overlap.

Sizes: ``n = d_model × multiple`` ("small") and ``2n`` ("big"); defaults follow the paper
(tied ReLU + L1, l1 1e-3, lr 1e-3, batch 32). Both sizes of a layer read the same harvest
shards. Train/validation rows are split by *text* (seeded), so tokens of one sentence never
sit on both sides.

Overlap: the small and big decoders are matched one-to-one by the Hungarian algorithm on
cosine similarity (``prefscope.sae.mmcs``); MMCS is the mean matched cosine. The overlapping
features are the small-dictionary features with the highest matched cosine — those with
cosine ≥ ``min_cos``, at most ``top_k`` per layer — each carried with its *matched* index in
the big dictionary (the reference looked features up in the big SAE at the small index).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from prefscope.io import write_json

log = logging.getLogger("prefscope.lfp_probe.saes")

SIZES = {"small": 1, "big": 2}


def size_latents(d_model: int, multiple: int, size: str) -> int:
    """Dictionary width of ``size`` ("small" = d_model × multiple, "big" = twice that)."""
    return int(d_model) * int(multiple) * SIZES[size]


def split_by_text(seq: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    """Boolean validation mask over token rows, assigning whole texts to validation."""
    texts = np.unique(seq)
    rng = np.random.default_rng(seed)
    n_val = max(1, round(val_fraction * len(texts))) if len(texts) > 1 else 0
    val_texts = rng.permutation(texts)[:n_val]
    return np.isin(seq, val_texts)


def train_layer_sae(x: np.ndarray, seq: np.ndarray, n_latents: int, params: dict[str, Any]):
    """Train one SAE; returns (model, metrics on the validation rows)."""
    from prefscope.sae import SAEConfig, TrainConfig, evaluate, train_sae

    p = params
    val = split_by_text(seq, p["val_fraction"], p["seed"])
    cfg = SAEConfig(
        d_in=int(x.shape[1]),
        n_latents=n_latents,
        architecture=p["architecture"],
        tied=p["tied"],
        l1_coef=p["l1_coef"],
    )
    train_cfg = TrainConfig(
        lr=p["lr"],
        batch_size=p["batch_size"],
        max_epochs=p["max_epochs"],
        seed=p["seed"],
        progress=p.get("progress", True),
    )
    model, _history = train_sae(x[~val], x[val], cfg, train_cfg)
    metrics = {k: float(v) for k, v in evaluate(model, x[val]).items()}
    metrics.update(n_latents=n_latents, n_train=int((~val).sum()), n_val=int(val.sum()))
    return model, metrics


def train_stage(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Workflow stage: harvest shards -> ``sae/{size}/layer_<L>/`` for every chosen layer."""
    from prefscope.harvest import load_index, load_layer, load_manifest
    from prefscope.sae import save_sae

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


def overlapping_features(
    pairs: list[tuple[int, int, float]], min_cos: float, top_k: int
) -> list[dict[str, Any]]:
    """Small features by matched cosine (desc), cos ≥ ``min_cos``, at most ``top_k``."""
    ranked = sorted(pairs, key=lambda p: (-p[2], p[0]))
    kept = [p for p in ranked if p[2] >= min_cos][:top_k]
    return [{"small": int(i), "big": int(j), "cos": float(c)} for i, j, c in kept]


def overlap(dec_small: np.ndarray, dec_big: np.ndarray, min_cos: float, top_k: int):
    """MMCS and the overlapping features of one layer's two dictionaries."""
    from prefscope.sae import mmcs

    result = mmcs(dec_small, dec_big)
    pairs = [(int(i), int(j), float(c)) for i, j, c in result["pairs"]]
    return {
        "mmcs": float(result["mmcs"]),
        "features": overlapping_features(pairs, min_cos, top_k),
    }


def overlap_stage(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Workflow stage: small + big SAEs -> ``overlap.json`` (MMCS + features per layer)."""
    from prefscope.harvest import chosen_layers
    from prefscope.lfp_probe.deltas import load_layer_saes

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
