"""Workflow stage: train the branch-W SAE on embedding differences and encode every pair."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import polars as pl

from prefscope.errors import InputError
from prefscope.io import load_npy, save_npy, write_json
from prefscope.sae import (
    SparseAutoencoder,
    encode,
    evaluate,
    save_sae,
)

# the library's trainer; ``train_sae`` here is the rule's stage function
from prefscope.sae.config import configs_from_settings
from prefscope.sae.train import train_sae as fit_sae

log = logging.getLogger("prefscope.sae")

# the training settings written beside the model's own config (what shaped the fit)
SAVED_TRAIN_KEYS = ("lr", "batch_size", "max_epochs", "min_epochs", "patience", "seed")


def difference_training_data(
    pairs: pl.DataFrame, deltas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Deduplicated train deltas with their sign flips (so the data is symmetric, as the
    comparison A-vs-B is arbitrary), and deduplicated validation deltas as they are."""
    dedup = pairs.get_column("dedup").to_numpy()
    split = pairs.get_column("split").to_numpy()
    if len(pairs) != len(deltas):
        raise InputError(
            f"deltas have {len(deltas)} rows but pairs has {len(pairs)}; re-run the embed rule"
        )
    train_rows = np.flatnonzero(dedup & (split == "train"))
    # written in place: one [2n, d] float32 array, no concatenation or dtype-copy temporaries
    x_train = np.empty((2 * len(train_rows), deltas.shape[1]), dtype=np.float32)
    np.take(deltas, train_rows, axis=0, out=x_train[: len(train_rows)])
    np.negative(x_train[: len(train_rows)], out=x_train[len(train_rows) :])
    val = deltas[dedup & (split == "val")]
    return x_train, val.astype(np.float32, copy=False)


def fit_and_write(
    x_train: np.ndarray,
    x_val: np.ndarray,
    x_all: np.ndarray,
    settings: dict,
    outputs: dict,
    extra_metrics: dict | None = None,
) -> SparseAutoencoder:
    """Train on ``x_train`` (early-stopping on ``x_val``), then write the model, the
    inference-mode codes of ``x_all`` and the metrics (plus ``extra_metrics``)."""
    cfg, train_cfg = configs_from_settings(settings, int(x_all.shape[1]))
    log.info("training on %d rows (with sign flips), validating on %d", len(x_train), len(x_val))
    if not len(x_val):
        log.warning("no validation rows: no early stopping, training runs max_epochs")
    n_distinct = len(x_train) // 2  # before the sign flips
    if n_distinct < cfg.n_latents:
        log.warning(
            "only %d training rows for %d latents: the SAE can memorise rows instead of "
            "learning shared features; use more data or fewer latents (sae.n_latents)",
            n_distinct,
            cfg.n_latents,
        )
    model, history = fit_sae(x_train, x_val if len(x_val) else None, cfg, train_cfg)
    directory = Path(outputs["model"]).parent
    save_sae(model, directory)
    save_npy(outputs["codes"], encode(model, x_all))
    write_json(
        outputs["metrics"],
        {
            "config": {**asdict(cfg), **{k: getattr(train_cfg, k) for k in SAVED_TRAIN_KEYS}},
            "n_train_rows": len(x_train),
            "n_val_rows": len(x_val),
            "train": evaluate(model, x_train),
            "val": evaluate(model, x_val) if len(x_val) else None,
            **(extra_metrics or {}),
            "history": history,
        },
    )
    return model


def train_sae(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Train on deduplicated train deltas (+ sign flips), early-stop on val deltas, then
    write the model, the inference-mode codes of *every* row, and the metrics."""
    pairs = pl.read_parquet(inputs["pairs"])
    deltas = load_npy(inputs["deltas"])
    x_train, x_val = difference_training_data(pairs, deltas)
    fit_and_write(x_train, x_val, deltas, params["sae"], outputs)
