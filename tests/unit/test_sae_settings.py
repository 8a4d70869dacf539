"""One reading of an SAE config section for both branches (schema: $defs/sae_architecture)."""

from __future__ import annotations

import numpy as np
import pytest

from prefscope.errors import InputError
from prefscope.sae.config import SAEConfig, TrainConfig, configs_from_settings


def test_keys_go_to_the_dataclass_that_has_them_and_others_stay_with_the_caller():
    cfg, train = configs_from_settings(
        {"architecture": "topk", "k": 3, "signed": True, "lr": 0.01, "seed": 5, "multiple": 4},
        d_in=8,
        n_latents=16,
    )
    assert (cfg.architecture, cfg.k, cfg.signed, cfg.d_in, cfg.n_latents) == (
        "topk",
        3,
        True,
        8,
        16,
    )
    assert (train.lr, train.seed) == (0.01, 5)
    assert not hasattr(cfg, "multiple") and not hasattr(train, "multiple")


def test_absent_keys_keep_the_dataclass_defaults():
    cfg, train = configs_from_settings({}, d_in=4, n_latents=8)
    assert cfg == SAEConfig(d_in=4, n_latents=8)
    assert train == TrainConfig()


def test_fixed_values_override_the_section():
    cfg, _ = configs_from_settings({"n_latents": 99}, d_in=4, n_latents=8)
    assert cfg.n_latents == 8


def test_invalid_combination_is_still_refused():
    with pytest.raises(InputError, match="tied"):
        configs_from_settings({"architecture": "topk", "tied": True}, d_in=4, n_latents=8)


def test_branch_l_sae_honours_every_architecture_key():
    """lfp.sae's k and signed reach the model (they were once silently dropped)."""
    from prefscope.lfp.saes.layer_saes import train_layer_sae

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    seq = np.repeat(np.arange(16), 4)
    params = {
        "architecture": "topk",
        "k": 2,
        "signed": True,
        "tied": False,
        "l1_coef": 1e-3,
        "lr": 1e-3,
        "batch_size": 16,
        "max_epochs": 1,
        "seed": 0,
        "val_fraction": 0.25,
        "progress": False,
    }
    model, _ = train_layer_sae(x, seq, 12, params)
    assert (model.cfg.architecture, model.cfg.k, model.cfg.signed) == ("topk", 2, True)
