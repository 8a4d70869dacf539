"""SparseAutoencoder: selection, signed symmetry, sparse == dense decoding, decoder geometry."""

from __future__ import annotations

import math

import pytest
import torch

from prefscope.sae import SAEConfig, SparseAutoencoder
from prefscope.sae.loss import auxk_loss, training_loss


def _model(seed: int = 0, **kw) -> SparseAutoencoder:
    kw = {"d_in": 8, "n_latents": 24, **kw}
    torch.manual_seed(seed)
    model = SparseAutoencoder(SAEConfig(**kw), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # non-trivial biases so they are exercised too
        model.b_enc.normal_(0, 0.1)
        model.b_pre.normal_(0, 0.1)
    return model


def _x(n: int = 10, d: int = 8, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("arch", ["topk", "batchtopk", "relu_l1"])
def test_shapes_including_leading_dims(arch):
    model = _model(architecture=arch, k=3)
    x = _x(6).reshape(2, 3, 8)
    assert model.encode_pre(x).shape == (2, 3, 24)
    recon, z = model(x)
    assert recon.shape == (2, 3, 8) and z.shape == (2, 3, 24)
    # same codes as the flat rows; matmul blocking depends on the batch size, so up to rounding
    whole, part = model.encode(x)[1], model.encode(x[1])
    assert torch.equal(whole != 0, part != 0)
    assert torch.allclose(whole, part, atol=1e-6, rtol=0)
    assert model.decoder_directions().shape == (24, 8)


def test_init_is_xavier_unit_decoder_with_tied_encoder():
    model = SparseAutoencoder(SAEConfig(d_in=8, n_latents=24), torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.W_dec.norm(dim=1), torch.ones(24))
    assert torch.equal(model.W_enc, model.W_dec.T)
    assert torch.count_nonzero(model.b_enc) == 0 and float(model.threshold) == -1.0


@pytest.mark.parametrize("signed", [False, True])
def test_topk_keeps_exactly_k_largest_per_row(signed):
    model = _model(architecture="topk", k=3, signed=signed)
    x = _x(10)
    z = model.encode(x)
    assert (torch.count_nonzero(z, dim=1) == 3).all()
    act = model.encode_pre(x) if signed else torch.relu(model.encode_pre(x))
    mag = act.abs() if signed else act
    kept = torch.where(z != 0, mag, torch.inf).min(dim=1).values
    dropped = torch.where(z == 0, mag, -torch.inf).max(dim=1).values
    assert (kept >= dropped).all()
    assert torch.equal(z[z != 0], act[z != 0])  # values pass through unchanged
    if not signed:
        assert (z >= 0).all()
    code = model.select_train(act)
    assert len(code.cols) == 30 and torch.equal(code.rows, torch.arange(10).repeat_interleave(3))


def test_batchtopk_selects_k_times_batch_in_training_and_thresholds_at_inference():
    model = _model(architecture="batchtopk", k=2, signed=True)
    x = _x(10)
    act = model.encode_pre(x)
    code = model.select_train(act)
    assert len(code.vals) == 2 * 10
    assert len(set(zip(code.rows.tolist(), code.cols.tolist(), strict=True))) == 20
    assert torch.all(code.rows[1:] >= code.rows[:-1])
    # the 20 kept entries are the 20 largest |act| of the whole batch
    assert math.isclose(float(code.low), float(act.detach().abs().flatten().sort().values[-20]))
    torch.testing.assert_close(code.vals, act[code.rows, code.cols])
    # inference: no threshold yet -> per-row top-k; then entries above the threshold
    assert (torch.count_nonzero(model.encode(x), dim=1) == 2).all()
    model.threshold.fill_(0.5)
    z = model.encode(x)
    assert torch.equal(z, torch.where(act.abs() > 0.5, act, torch.zeros(())))
    assert (z < 0).any()


def test_threshold_ema_update_is_exact():
    model = _model(architecture="batchtopk")
    model.update_threshold(torch.tensor(2.0), 0.01)
    assert float(model.threshold) == 2.0  # first batch sets it
    model.update_threshold(torch.tensor(1.0), 0.25)
    assert float(model.threshold) == 0.75 * 2.0 + 0.25 * 1.0
    model.update_threshold(torch.tensor(math.inf), 0.25)  # nothing selected: unchanged
    assert float(model.threshold) == 1.75


@pytest.mark.parametrize("arch", ["topk", "batchtopk"])
def test_signed_code_is_exactly_odd_without_biases(arch):
    model = _model(architecture=arch, k=3, signed=True)
    with torch.no_grad():
        model.b_pre.zero_()
        model.b_enc.zero_()
    model.threshold.fill_(0.3)
    x = _x(12)
    z = model.encode(x)
    assert torch.equal(model.encode(-x), -z)
    assert (z < 0).any() and (z > 0).any()
    # with the biases the selection is by |pre|, so still signed, but no longer exactly odd
    relu = _model(architecture=arch, k=3, signed=False)
    assert (relu.encode(x) >= 0).all() and (relu.encode(-x) >= 0).all()


@pytest.mark.parametrize("arch", ["topk", "batchtopk"])
@pytest.mark.parametrize("matryoshka", [None, [4, 10, 24]])
def test_sparse_and_dense_decoding_agree(arch, matryoshka):
    model = _model(architecture=arch, k=3, signed=True, matryoshka=matryoshka).double()
    x = _x(10).double()
    act = model.encode_pre(x)
    code = model.select_train(act)

    def run(sparse: bool):
        model.sparse_decode = sparse
        model.zero_grad()
        prefixes = model.decode_prefixes(code, 10)
        prefixes.pow(2).sum().backward(retain_graph=True)
        grads = [p.grad.clone() for p in (model.W_dec, model.W_enc, model.b_pre)]
        z = model.encode(x)
        idx = torch.tensor([[0, 5], [3, 23]]).repeat(5, 1)
        return prefixes, grads, model.decode(z), model.decode_rows(idx, act.gather(1, idx))

    sparse, dense = run(True), run(False)
    for a, b in zip(sparse, dense, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    prefixes = sparse[0]
    assert prefixes.shape == (10, len(matryoshka or [24]), 8)
    # last prefix is the full reconstruction; each prefix decodes only its first latents
    z = torch.zeros(10, 24, dtype=torch.float64).index_put((code.rows, code.cols), code.vals)
    torch.testing.assert_close(prefixes[:, -1], z @ model.W_dec + model.b_pre)
    if matryoshka:
        torch.testing.assert_close(prefixes[:, 0], z[:, :4] @ model.W_dec[:4] + model.b_pre)


def test_sparse_path_is_chosen_by_shape():
    assert not _model(n_latents=32, k=4).sparse_decode  # M/k = 8: dense matmul is faster
    assert _model(n_latents=256, k=8).sparse_decode
    assert not _model(n_latents=4096, architecture="relu_l1").sparse_decode


@pytest.mark.parametrize("tied", [False, True])
def test_gradient_projection_removes_the_parallel_component(tied):
    arch = "relu_l1" if tied else "topk"
    model = SparseAutoencoder(SAEConfig(d_in=2, n_latents=2, architecture=arch, k=1, tied=tied))
    dec = torch.tensor([[1.0, 0.0], [0.6, 0.8]])  # unit rows
    grad = torch.tensor([[3.0, 4.0], [1.0, 2.0]])
    param = model.W_enc if tied else model.W_dec
    with torch.no_grad():
        param.copy_(dec.T if tied else dec)
    param.grad = (grad.T if tied else grad).clone()
    model.project_decoder_grad()
    got = param.grad.T if tied else param.grad
    # row 0: (3,4) minus 3*(1,0); row 1: (1,2) minus 2.2*(0.6,0.8)
    torch.testing.assert_close(got, torch.tensor([[0.0, 4.0], [1 - 1.32, 2 - 1.76]]))
    torch.testing.assert_close((got * dec).sum(dim=1), torch.zeros(2))


def test_matryoshka_loss_is_mean_of_prefix_fvus():
    model = _model(architecture="topk", k=3, matryoshka=[6, 24])
    x = _x(16)
    parts = training_loss(model, x, torch.zeros(24, dtype=torch.bool), with_aux=True)
    z = model.encode(x)  # topk: training and inference codes coincide
    var = ((x - x.mean(0)) ** 2).sum()
    fvu_6 = ((z[:, :6] @ model.W_dec[:6] + model.b_pre - x) ** 2).sum() / var
    fvu_24 = ((model.decode(z) - x) ** 2).sum() / var
    torch.testing.assert_close(parts.fvu, fvu_24)
    torch.testing.assert_close(parts.loss, (fvu_6 + fvu_24) / 2)
    assert float(parts.aux.detach()) == 0.0  # no dead latents
    assert torch.equal(parts.fired, (z != 0).any(dim=0))


def test_auxk_is_nonzero_exactly_when_latents_are_dead():
    model = _model(architecture="topk", k=2, signed=True)
    x = _x(16)
    act = model.encode_pre(x)
    recon = model.decode(model.encode(x))
    none_dead = torch.zeros(24, dtype=torch.bool)
    assert float(auxk_loss(model, x, act, recon, none_dead).detach()) == 0.0
    dead = none_dead.clone()
    dead[[1, 7, 9]] = True
    aux = auxk_loss(model, x, act, recon, dead)
    assert float(aux.detach()) > 0
    aux.backward()  # the gradient reaches only the dead latents' encoder and decoder rows
    live = ~dead
    assert torch.count_nonzero(model.W_dec.grad[live]) == 0
    assert torch.count_nonzero(model.W_dec.grad[dead]) > 0
    assert torch.count_nonzero(model.W_enc.grad[:, live]) == 0
