"""The branch-W SAE stage: sign-flip training data, artifacts, codes of every row."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from prefscope.errors import InputError
from prefscope.io import load_npy, read_json, save_npy
from prefscope.sae import encode, load_sae
from prefscope.sae.stage import difference_training_data, train_sae


def _pairs(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pair_id": np.arange(n, dtype=np.int64),
            "split": ["val" if i % 4 == 0 else "train" for i in range(n)],
            "dedup": [i % 10 != 9 for i in range(n)],
        }
    )


def _stage_outputs(out):
    """The train_sae rule's outputs, all inside ``out``."""
    names = {"model": "model.safetensors", "config": "config.json", "codes": "codes.npy"}
    return {k: str(out / f) for k, f in {**names, "metrics": "metrics.json"}.items()}


def test_training_data_is_dedup_train_plus_sign_flips():
    deltas = np.arange(20, dtype=np.float32).reshape(10, 2)
    x_train, x_val = difference_training_data(_pairs(10), deltas)
    train_rows = [1, 2, 3, 5, 6, 7]  # row 9 is a duplicate, rows 0, 4, 8 are val
    np.testing.assert_array_equal(
        x_train, np.concatenate([deltas[train_rows], -deltas[train_rows]])
    )
    np.testing.assert_array_equal(x_val, deltas[[0, 4, 8]])
    with pytest.raises(InputError, match="deltas have 9 rows but pairs has 10"):
        difference_training_data(_pairs(10), deltas[:9])


def test_stage_writes_model_codes_and_metrics(tmp_path):
    n = 120
    deltas = np.random.default_rng(0).normal(size=(n, 8)).astype(np.float32)
    _pairs(n).write_parquet(tmp_path / "pairs.parquet")
    save_npy(tmp_path / "deltas.npy", deltas)
    out = tmp_path / "sae"
    outputs = _stage_outputs(out)
    params = {
        "sae": {
            "architecture": "batchtopk",
            "signed": True,
            "n_latents": 16,
            "k": 2,
            "matryoshka": [4, 16],
            "max_epochs": 3,
            "min_epochs": 1,
            "batch_size": 32,
            "seed": 0,
        }
    }
    inputs = {"pairs": str(tmp_path / "pairs.parquet"), "deltas": str(tmp_path / "deltas.npy")}
    train_sae(inputs, outputs, params, threads=1)
    codes = load_npy(outputs["codes"])
    assert codes.shape == (n, 16) and codes.dtype == np.float32
    np.testing.assert_array_equal(codes, encode(load_sae(out), deltas))
    metrics = read_json(outputs["metrics"])
    assert metrics["n_train_rows"] == 2 * 78 and metrics["n_val_rows"] == 30
    assert metrics["config"]["matryoshka"] == [4, 16] and metrics["config"]["lr"] == 5e-4
    assert set(metrics["val"]) == {"fvu", "mse", "l0", "dead_fraction", "n"}
    assert metrics["history"]["epochs_run"] == 3


def test_stage_warns_when_fewer_training_rows_than_latents(tmp_path, caplog):
    n = 24  # 18 train rows minus 2 duplicates = 16 distinct rows, for 32 latents
    deltas = np.random.default_rng(1).normal(size=(n, 8)).astype(np.float32)
    _pairs(n).write_parquet(tmp_path / "pairs.parquet")
    save_npy(tmp_path / "deltas.npy", deltas)
    outputs = _stage_outputs(tmp_path / "sae")
    params = {
        "sae": {
            "architecture": "topk",
            "n_latents": 32,
            "k": 2,
            "max_epochs": 1,
            "min_epochs": 1,
            "batch_size": 8,
            "seed": 0,
        }
    }
    with caplog.at_level("WARNING", logger="prefscope"):
        inputs = {"pairs": str(tmp_path / "pairs.parquet"), "deltas": str(tmp_path / "deltas.npy")}
        train_sae(inputs, outputs, params, threads=1)
    assert any("only 16 training rows for 32 latents" in r.message for r in caplog.records)
