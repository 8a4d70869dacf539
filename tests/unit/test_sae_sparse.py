"""The fast SAE training path gives the dense reference's numbers: sparse encoder backward,
two-stage BatchTopK, fused Adam, the block-wise median of the bias init."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prefscope.sae import SAEConfig, SparseAutoencoder
from prefscope.sae import model as model_mod
from prefscope.sae.loss import auxk_loss, total_variance, training_loss
from prefscope.sae.model import BATCH_TOPK_TWO_STAGE_MIN, _PreactEntries
from prefscope.sae.train import column_median, make_optimizer


def _model(**kw) -> SparseAutoencoder:
    kw = {"d_in": 8, "n_latents": 24, **kw}
    model = SparseAutoencoder(SAEConfig(**kw), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.b_enc.normal_(0, 0.1, generator=torch.Generator().manual_seed(1))
        model.b_pre.normal_(0, 0.1, generator=torch.Generator().manual_seed(2))
    return model.double()


def _x(n: int = 12, d: int = 8) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(3), dtype=torch.float64)


def _dense_reference_loss(model, x, dead):
    """The training objective written densely (autograd through the full B×M encoder)."""
    act = model.activation(model.encode_pre(x))
    code = model.select_train(act)
    recons = model.decode_prefixes(code, x.shape[0])
    fvus = (recons - x.unsqueeze(1)).pow(2).sum(dim=(0, 2)) / total_variance(x)
    aux = auxk_loss(model, x, act, recons[:, -1], dead)
    return fvus.mean() + model.cfg.aux_coef * aux


def _grads(model, loss):
    model.zero_grad()
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("arch", ["topk", "batchtopk"])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("matryoshka", [None, [6, 24]])
@pytest.mark.parametrize("n_latents", [24, 96])  # dense and sparse decoding
def test_sparse_training_path_matches_the_dense_reference(arch, signed, matryoshka, n_latents):
    if matryoshka:
        matryoshka = [6, n_latents]
    model = _model(
        architecture=arch,
        k=3,
        signed=signed,
        matryoshka=matryoshka,
        n_latents=n_latents,
        aux_coef=0.5,
    )
    x = _x()
    dead = torch.zeros(n_latents, dtype=torch.bool)
    dead[1::3] = True  # AuxK active, so its sparse gather is checked too
    parts = training_loss(model, x, dead)
    fast = _grads(model, parts.loss)
    ref_loss = _dense_reference_loss(model, x, dead)
    ref = _grads(model, ref_loss)
    torch.testing.assert_close(parts.loss, ref_loss, rtol=1e-12, atol=1e-12)
    assert float(parts.aux.detach()) > 0
    for name in ref:
        torch.testing.assert_close(fast[name], ref[name], rtol=1e-10, atol=1e-12, msg=name)
    assert torch.count_nonzero(fast["W_enc"]) > 0 and torch.count_nonzero(fast["b_pre"]) > 0


@pytest.mark.parametrize("sparse_mm", [True, False])  # False: the GPU (index_add) form
@pytest.mark.parametrize("per_row", [True, False])
def test_preact_entries_backward_passes_gradcheck(per_row, sparse_mm, monkeypatch):
    if not sparse_mm:
        monkeypatch.setattr(model_mod, "SPARSE_MM_DEVICES", ())
    x = _x(6, 5)
    b, m, k = 6, 10, 3
    cols = torch.stack(
        [torch.randperm(m, generator=torch.Generator().manual_seed(i))[:k] for i in range(b)]
    )
    rows = torch.arange(b).repeat_interleave(k)
    if not per_row:  # uneven rows, as BatchTopK gives: drop some entries, keep rows sorted
        keep = torch.arange(b * k) % 4 != 1
        rows, flat_cols = rows[keep], cols.reshape(-1)[keep]
    else:
        flat_cols = cols.reshape(-1)

    def entries(w, b_enc, b_pre):
        with torch.no_grad():  # pre from the current inputs, so finite differences see them
            xc = x - b_pre
            pre = torch.addmm(b_enc, xc, w)
        return _PreactEntries.apply(
            w, b_enc, b_pre, xc, pre, rows, flat_cols, k if per_row else None
        )

    g = torch.Generator().manual_seed(5)
    inputs = tuple(
        torch.randn(*s, dtype=torch.float64, generator=g, requires_grad=True)
        for s in ((5, m), (m,), (5,))
    )
    assert torch.autograd.gradcheck(entries, inputs)


@pytest.mark.parametrize("skewed", [False, True])
def test_two_stage_batch_topk_selects_the_flat_top_entries(skewed):
    b, m = 128, 4096
    assert b * m >= BATCH_TOPK_TWO_STAGE_MIN
    model = SparseAutoencoder(SAEConfig(d_in=4, n_latents=m, k=8, architecture="batchtopk"))
    mag = torch.rand(b, m, generator=torch.Generator().manual_seed(0))
    if skewed:  # one row holds far more than 2k of the batch's top entries: fallback
        mag[7] += 10.0
    values, flat = model._batch_topk(mag, 8 * b)
    ref = mag.reshape(-1).topk(8 * b)
    assert torch.equal(flat.sort().values, ref.indices.sort().values)
    torch.testing.assert_close(values.sort().values, ref.values.sort().values)
    assert model._candidates == (32 if skewed else 16)  # doubled after a fallback


def test_fused_adam_on_cpu():
    opt = make_optimizer(_model().float(), 1e-3)
    assert opt.defaults["fused"] is True


def test_column_median_equals_numpy_median():
    x = np.random.default_rng(0).standard_normal((101, 70)).astype(np.float32)
    got = column_median(x, block=32)
    assert got.dtype == np.float32
    assert np.array_equal(got, np.median(x, axis=0))
