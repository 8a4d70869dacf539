"""The spliced SAE zeroes exactly the chosen features and leaves no hook behind."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lfp_tiny import tiny_model_and_tokenizer

from prefscope.lfp.ablation.matched import random_control
from prefscope.lfp.ablation.splice import splice_saes
from prefscope.lfp.harvest.activations import capture_mlp_outputs, count_forward_hooks


@pytest.fixture(scope="module")
def layer_sae():
    from prefscope.sae import SAEConfig, TrainConfig, train_sae

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 16)).astype(np.float32)
    cfg = SAEConfig(d_in=16, n_latents=32, architecture="relu_l1", tied=True, l1_coef=1e-3)
    model, _ = train_sae(x[:200], x[200:], cfg, TrainConfig(lr=1e-3, batch_size=32, max_epochs=1))
    return model


def test_splice_zeroes_exactly_the_chosen_features(layer_sae):
    model, tok = tiny_model_and_tokenizer()
    enc = tok(["the movie was great fun"], return_tensors="pt")
    with capture_mlp_outputs(model, [1]) as cap, torch.inference_mode():
        model(**enc)
        original = cap[1].clone()
    zero = [0, 3, 7]
    with splice_saes(model, {1: layer_sae}, {1: zero}), capture_mlp_outputs(model, [1]) as cap:
        with torch.inference_mode():
            model(**enc)
        spliced = cap[1].clone()
        assert count_forward_hooks(model) == 2
    assert count_forward_hooks(model) == 0
    with torch.inference_mode():
        codes = layer_sae.encode(original.float())
        masked = codes.clone()
        masked[..., zero] = 0
        expected = layer_sae.decode(masked)
        unmasked = layer_sae.decode(codes)
    torch.testing.assert_close(spliced, expected, atol=1e-6, rtol=1e-5)
    if bool((codes[..., zero] > 0).any()):  # the zeroed features were active: output changed
        assert not torch.allclose(spliced, unmasked)


def test_splice_hooks_removed_after_error(layer_sae):
    model, _ = tiny_model_and_tokenizer()
    with pytest.raises(ValueError), splice_saes(model, {0: layer_sae}, {0: [1]}):
        raise ValueError("boom")
    assert count_forward_hooks(model) == 0


def test_random_control_matches_counts_rates_and_avoids_relevant_and_dead():
    rates = {
        2: np.array([0.0, 0.3, 0.0, 0.29, 0.31, 0.05, 0.06, 0.5, 0.0, 0.04]),
        4: np.array([0.2, 0.0, 0.21]),
    }
    for seed in range(10):
        control = random_control({2: [1, 5], 4: [0]}, rates, pool=2, seed=seed)
        assert len(control[2]) == 2 and control[4] == [2]  # the only live non-relevant one
        assert not set(control[2]) & {1, 5} and all(rates[2][i] > 0 for i in control[2])
        # one feature near 0.3 and one near 0.05, never the 0.5 one
        assert sorted(rates[2][control[2]].round(2).tolist())[1] in (0.29, 0.31)
