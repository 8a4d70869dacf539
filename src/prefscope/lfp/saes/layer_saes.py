"""Per-layer SAEs of sizes n and 2n on harvested MLP outputs: training and loading.

Sizes: ``n = d_model × multiple`` ("small") and ``2n`` ("big"); defaults follow the paper
(tied ReLU + L1, l1 1e-3, lr 1e-3, batch 32). Both sizes of a layer read the same harvest
shards. Train/validation rows are split by *text* (seeded), so tokens of one sentence never
sit on both sides.

"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from prefscope.errors import InputError

log = logging.getLogger(__name__)

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
    from prefscope.sae import evaluate, train_sae
    from prefscope.sae.config import configs_from_settings

    val = split_by_text(seq, params["val_fraction"], params["seed"])
    cfg, train_cfg = configs_from_settings(params, int(x.shape[1]), n_latents=n_latents)
    model, _history = train_sae(x[~val], x[val], cfg, train_cfg)
    metrics = {k: float(v) for k, v in evaluate(model, x[val]).items()}
    metrics.update(n_latents=n_latents, n_train=int((~val).sum()), n_val=int(val.sum()))
    return model, metrics


def load_layer_saes(sae_dir: str | Path, layers: Sequence[int]) -> dict[int, Any]:
    """The per-layer SAEs of one size, saved by the ``lfp_sae`` rule as ``layer_<L>/``."""
    from prefscope.sae import load_sae

    saes = {}
    for layer in layers:
        path = Path(sae_dir) / f"layer_{int(layer)}"
        if not path.exists():
            raise InputError(f"no SAE for layer {layer}", file=str(path))
        saes[int(layer)] = load_sae(path)
    return saes
