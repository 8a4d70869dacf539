"""train_sae: recovery of planted directions, early stopping, determinism, AuxK, invariants."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prefscope.errors import InputError
from prefscope.sae import SAEConfig, TrainConfig, encode, evaluate, train_sae
from prefscope.sae.metrics import validation_loss


def planted(seed: int = 0, n: int = 2000, d: int = 32, m: int = 8, noise: float = 0.02):
    """Rows = 2 of ``m`` known unit directions with random signed coefficients + noise."""
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(m, d))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    coef = np.zeros((n, m))
    cols = np.argsort(rng.random((n, m)), axis=1)[:, :2].ravel()
    coef[np.repeat(np.arange(n), 2), cols] = rng.choice([-1, 1], 2 * n) * rng.uniform(
        0.5, 2.0, 2 * n
    )
    x = coef @ dirs + noise * rng.normal(size=(n, d))
    return dirs, x.astype(np.float32)


def quiet(**kw) -> TrainConfig:
    return TrainConfig(progress=False, **kw)


def test_signed_batchtopk_recovers_planted_directions():
    dirs, x = planted()
    train, val = x[:1600], x[1600:]
    x_train = np.concatenate([train, -train])  # sign-flip augmentation, as for deltas
    cfg = SAEConfig(d_in=32, n_latents=16, k=2, architecture="batchtopk", signed=True)
    model, history = train_sae(x_train, val, cfg, quiet(lr=3e-3, batch_size=128, max_epochs=15))
    best_cos = np.abs(dirs @ model.decoder_directions().T).max(axis=1)
    assert best_cos.min() > 0.95, best_cos
    metrics = evaluate(model, val)
    assert metrics["fvu"] < 0.02
    assert 1.5 < metrics["l0"] < 2.5  # the learned threshold keeps ~k per row at inference
    assert float(model.threshold) > 0
    z = encode(model, val)
    assert (z < 0).any() and (z > 0).any()
    assert history["val_fvu"][-1] == pytest.approx(metrics["fvu"], rel=1e-6)


@pytest.mark.parametrize(
    ("arch", "extra"),
    [("topk", {}), ("batchtopk", {"matryoshka": [4, 16]}), ("relu_l1", {"tied": True}),
     ("relu_l1", {})],
)
def test_decoder_rows_are_unit_after_training(arch, extra):
    _, x = planted(n=300)
    cfg = SAEConfig(d_in=32, n_latents=16, k=2, architecture=arch, **extra)
    model, history = train_sae(x, None, cfg, quiet(lr=1e-2, batch_size=64, max_epochs=3))
    np.testing.assert_allclose(np.linalg.norm(model.decoder.detach().numpy(), axis=1), 1.0,
                               atol=1e-5)
    assert history["epochs_run"] == 3 and not history["stopped_early"]
    assert history["val_loss"] == [] and history["best_epoch"] == 2


def test_median_init_is_exactly_zero_on_sign_flipped_data():
    _, x = planted(n=301)
    both = np.concatenate([x, -x])
    assert np.all(np.median(both, axis=0) == 0)
    model, _ = train_sae(both, None, SAEConfig(d_in=32, n_latents=16, k=2),
                         quiet(lr=1e-12, max_epochs=1))  # lr ~ 0: b_pre stays at its init
    assert float(model.b_pre.detach().abs().max()) < 1e-9


def test_early_stopping_restores_the_best_weights():
    _, x = planted(seed=3, n=600, noise=0.3)
    cfg = SAEConfig(d_in=32, n_latents=16, k=4, architecture="batchtopk", signed=True)
    tc = quiet(lr=5e-2, batch_size=32, max_epochs=40, min_epochs=3, patience=2)
    model, history = train_sae(x[:300], x[300:], cfg, tc)
    assert history["stopped_early"] and history["epochs_run"] < 40
    losses = history["val_loss"]
    assert history["best_epoch"] == int(np.argmin(losses))
    assert history["best_epoch"] < history["epochs_run"] - 1  # it did restore an older epoch
    assert validation_loss(model, x[300:])[0] == pytest.approx(min(losses), rel=1e-6)
    assert len(losses) == len(history["train_loss"]) == len(history["dead_fraction"])
    assert history["seconds"] > 0


def test_same_seed_same_weights_other_seed_differs():
    _, x = planted(n=400)
    cfg = SAEConfig(d_in=32, n_latents=16, k=2, architecture="batchtopk", signed=True,
                    matryoshka=[4, 16], dead_steps=4)

    def run(seed):
        model, hist = train_sae(x[:300], x[300:], cfg, quiet(seed=seed, batch_size=64,
                                                             max_epochs=3, min_epochs=3))
        return model.state_dict(), hist["val_loss"]

    (a, la), (b, lb), (c, _) = run(0), run(0), run(1)
    assert la == lb
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["W_dec"], c["W_dec"])


@pytest.mark.parametrize("arch", ["topk", "batchtopk"])
def test_auxk_revives_dead_latents(arch):
    # 32 planted directions with signed coefficients need 64 ReLU latents (one per sign);
    # latents that lose the competition early stay dead unless AuxK gives them a gradient.
    _, x = planted(n=2048, d=64, m=32, noise=0.01)

    def run(aux_coef):
        cfg = SAEConfig(d_in=64, n_latents=64, k=2, architecture=arch, aux_coef=aux_coef,
                        dead_steps=8)
        model, hist = train_sae(x, None, cfg, quiet(lr=3e-3, batch_size=64, max_epochs=8))
        return hist["dead_fraction"][-1], evaluate(model, x)

    (dead_aux, with_aux), (dead_plain, plain) = run(1 / 32), run(0.0)
    assert dead_plain >= 0.1  # the setting really has dead latents
    assert dead_aux < dead_plain / 2
    assert with_aux["dead_fraction"] < plain["dead_fraction"]
    assert with_aux["fvu"] < 0.8 * plain["fvu"]  # the revived latents are put to use


def test_encode_and_evaluate_leave_the_model_unchanged():
    _, x = planted(n=200)
    model, _ = train_sae(x, None, SAEConfig(d_in=32, n_latents=16, k=2),
                         quiet(max_epochs=1, batch_size=64))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    encode(model, x)
    evaluate(model, x)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_bad_inputs_are_named():
    cfg = SAEConfig(d_in=4, n_latents=8, k=2)
    with pytest.raises(InputError, match=r"x_train must have shape \[N, 4\]"):
        train_sae(np.zeros((10, 3)), None, cfg, quiet())
    bad = np.zeros((10, 4))
    bad[6, 2] = np.nan
    with pytest.raises(InputError, match="row 7: x_train has a non-finite value"):
        train_sae(bad, None, cfg, quiet())
    with pytest.raises(InputError, match="architecture"):
        SAEConfig(d_in=4, n_latents=8, architecture="gated")
    with pytest.raises(InputError, match="matryoshka"):
        SAEConfig(d_in=4, n_latents=8, matryoshka=[4, 6])
    with pytest.raises(InputError, match="tied"):
        SAEConfig(d_in=4, n_latents=8, tied=True)
    with pytest.raises(InputError, match="'k'"):
        SAEConfig(d_in=4, n_latents=8, k=9)
