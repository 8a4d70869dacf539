"""encode/evaluate numbers, safetensors round trip, and MMCS dictionary matching."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from prefscope.errors import InputError
from prefscope.sae import (
    SAEConfig,
    SparseAutoencoder,
    TrainConfig,
    encode,
    evaluate,
    load_sae,
    mmcs,
    save_sae,
    train_sae,
)


def _identity_topk1() -> SparseAutoencoder:
    """d = M = 2, identity encoder/decoder, ReLU top-1: easy to work out by hand."""
    model = SparseAutoencoder(SAEConfig(d_in=2, n_latents=2, architecture="topk", k=1))
    with torch.no_grad():
        model.W_enc.copy_(torch.eye(2))
        model.W_dec.copy_(torch.eye(2))
    return model


def test_evaluate_on_a_hand_computed_case():
    x = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, -1.0], [-1.0, -1.0]], np.float32)
    model = _identity_topk1()
    np.testing.assert_array_equal(
        encode(model, x, batch_size=3), [[1, 0], [0, 2], [3, 0], [0, 0]]
    )
    # errors: row 3 misses -1 in column 1; row 4 (all negative, ReLU) misses everything
    sse = 1.0 + 2.0
    variance = float(((x - x.mean(axis=0)) ** 2).sum())
    got = evaluate(model, x, batch_size=3)
    assert got["fvu"] == pytest.approx(sse / variance, rel=1e-6)
    assert got["mse"] == pytest.approx(sse / 8)
    assert got["l0"] == 0.75 and got["n"] == 4
    assert got["dead_fraction"] == 0.0
    assert evaluate(model, x[:1])["dead_fraction"] == 0.5  # latent 1 never fires on row 1


@pytest.mark.parametrize(
    "cfg",
    [
        SAEConfig(d_in=6, n_latents=12, architecture="batchtopk", k=2, signed=True,
                  matryoshka=[4, 12]),
        SAEConfig(d_in=6, n_latents=12, architecture="relu_l1", tied=True),
        SAEConfig(d_in=6, n_latents=12, architecture="topk", k=3),
    ],
    ids=["batchtopk", "tied_relu_l1", "topk"],
)
def test_save_load_round_trip_gives_identical_codes(tmp_path, cfg):
    x = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    model, _ = train_sae(x, None, cfg, TrainConfig(max_epochs=2, batch_size=16, progress=False))
    save_sae(model, tmp_path / "sae")
    assert sorted(p.name for p in (tmp_path / "sae").iterdir()) == ["config.json",
                                                                  "model.safetensors"]
    meta = json.loads((tmp_path / "sae" / "config.json").read_text())
    assert meta["config"]["architecture"] == cfg.architecture
    assert meta["threshold"] == float(model.threshold)
    loaded = load_sae(tmp_path / "sae")
    assert loaded.cfg == cfg
    np.testing.assert_array_equal(encode(loaded, x), encode(model, x))
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())


def test_load_refuses_mismatched_or_foreign_files(tmp_path):
    model = SparseAutoencoder(SAEConfig(d_in=4, n_latents=8, k=2))
    save_sae(model, tmp_path)
    meta = json.loads((tmp_path / "config.json").read_text())
    meta["config"]["n_latents"] = 9
    (tmp_path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"model.safetensors.*W_dec: expected \(9, 4\), found"):
        load_sae(tmp_path)
    meta["config"] = {"d_in": 4, "n_latents": 8, "colour": "red"}
    (tmp_path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="unknown SAE config keys"):
        load_sae(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InputError, match="not a prefscope-sae config"):
        load_sae(tmp_path)
    with pytest.raises(InputError, match="missing SAE file"):
        load_sae(tmp_path / "nowhere")


def test_mmcs_of_a_permuted_copy_finds_the_permutation():
    rng = np.random.default_rng(0)
    dec = rng.normal(size=(10, 16))
    perm = rng.permutation(10)
    result = mmcs(dec, 3.0 * dec[perm])  # scale does not matter
    assert result["mmcs"] == pytest.approx(1.0)
    assert sorted((i, j) for i, j, _ in result["pairs"]) == [
        (int(perm[j]), j) for j in np.argsort(perm)
    ]
    assert all(c == pytest.approx(1.0) for _, _, c in result["pairs"])


def test_mmcs_of_orthogonal_dictionaries_is_zero_and_sorted_pairs():
    eye = np.eye(8)
    assert mmcs(eye[:4], eye[4:])["mmcs"] == pytest.approx(0.0, abs=1e-12)
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[0.6, 0.8], [1.0, 0.0], [-1.0, 0.0]])  # rectangular: 2 pairs
    result = mmcs(a, b)
    assert result["pairs"] == [(0, 1, 1.0), (1, 0, pytest.approx(0.8))]
    assert result["mmcs"] == pytest.approx(0.9)
