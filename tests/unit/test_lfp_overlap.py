"""Overlapping features carry the *matched* index of the big dictionary."""

from __future__ import annotations

import numpy as np
import pytest

from prefscope.lfp.saes.layer_saes import size_latents, split_by_text
from prefscope.lfp.saes.overlap import overlap, overlapping_features


def test_matched_index_on_a_permuted_dictionary():
    rng = np.random.default_rng(0)
    small = rng.normal(size=(8, 32))
    small /= np.linalg.norm(small, axis=1, keepdims=True)
    perm = rng.permutation(16)
    big = np.zeros((16, 32))
    extra = rng.normal(size=(8, 32))
    big[perm[:8]] = small  # small feature i sits at big row perm[i]
    big[perm[8:]] = extra / np.linalg.norm(extra, axis=1, keepdims=True)
    result = overlap(small, big, min_cos=0.99, top_k=100)
    assert result["mmcs"] == pytest.approx(1.0)
    assert len(result["features"]) == 8
    for feat in result["features"]:
        assert feat["big"] == perm[feat["small"]]
        assert feat["cos"] == pytest.approx(1.0)


def test_overlapping_features_threshold_and_top_k():
    pairs = [(0, 5, 0.2), (1, 3, 0.9), (2, 0, 0.7), (3, 1, 0.95)]
    feats = overlapping_features(pairs, min_cos=0.5, top_k=2)
    assert [(f["small"], f["big"]) for f in feats] == [(3, 1), (1, 3)]


def test_sizes_and_text_split():
    assert size_latents(64, 1, "small") == 64 and size_latents(64, 1, "big") == 128
    seq = np.repeat(np.arange(10), 3)
    val = split_by_text(seq, 0.2, seed=0)
    assert val.sum() == 6
    for t in range(10):
        assert len(set(val[seq == t].tolist())) == 1
