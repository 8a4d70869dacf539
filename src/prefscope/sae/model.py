"""The sparse autoencoder: TopK, BatchTopK (signed or ReLU), Matryoshka prefixes, ReLU+L1.

    pre   = (x - b_pre) W_enc + b_enc
    z     = select(act(pre))            act = identity (signed) or ReLU
    x_hat = z W_dec + b_pre             W_dec rows are unit vectors

``signed`` keeps the sign of the entries it selects by magnitude, so with zero biases
``encode(-x) == -encode(x)`` exactly: the code of a pair (B, A) mirrors that of (A, B).
``tied`` (ReLU+L1 only, the LFP paper's SAE) uses the encoder's transpose as the decoder.

A TopK/BatchTopK code has only k active latents per row, so decoding gathers k decoder rows
(``embedding_bag``) instead of multiplying a dense B×M code into an M×d matrix. That is
B·k·d instead of B·M·d work in the forward pass and again in the backward pass, the
difference that makes the reference implementations slow at large M. For small M/k the
dense matmul is faster, so the path is chosen by shape; both give the same numbers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from prefscope.sae.config import SAEConfig

# Sparse decoding pays off once a row's latents outnumber its active ones by this factor
# (one CPU thread, full training step: dense wins at M/k = 8, break-even near 16, sparse
# 1.5x faster at M/k = 32 (d=1536, M=256) and 2x at 128 (d=512, M=4096)).
SPARSE_DECODE_MIN_RATIO = 16


class SparseCode(NamedTuple):
    """The active entries of a batch as (row, latent, value) triples, rows ascending."""

    rows: torch.Tensor  # [n] int64
    cols: torch.Tensor  # [n] int64
    vals: torch.Tensor  # [n] signed activations; carries the gradient
    low: torch.Tensor | None = None  # BatchTopK: smallest nonzero selected magnitude
    per_row: int | None = None  # TopK: exactly this many entries per row, row-major


class SparseAutoencoder(nn.Module):
    """One module for every architecture; ``cfg`` says which (see ``SAEConfig``)."""

    def __init__(self, cfg: SAEConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        m, d = cfg.n_latents, cfg.d_in
        # Xavier-uniform decoder with unit rows; the encoder starts as its transpose so each
        # latent initially reads the direction it writes (faster, more stable start).
        bound = math.sqrt(6.0 / (m + d))
        w = (torch.rand(m, d, generator=generator) * 2 - 1) * bound
        w = w / w.norm(dim=1, keepdim=True).clamp_min(1e-8)
        self.W_enc = nn.Parameter(w.T.contiguous())
        self.W_dec = None if cfg.tied else nn.Parameter(w.clone())
        self.b_enc = nn.Parameter(torch.zeros(m))
        self.b_pre = nn.Parameter(torch.zeros(d))
        # BatchTopK inference cut-off on |activation|; -1 = not learned yet (fall back to TopK)
        self.register_buffer("threshold", torch.tensor(-1.0))
        self.register_buffer(
            "_prefix_ends", torch.tensor(cfg.prefixes[:-1], dtype=torch.long), persistent=False
        )
        self.sparse_decode = (
            cfg.architecture != "relu_l1" and m >= SPARSE_DECODE_MIN_RATIO * cfg.k
        )

    # ------------------------------------------------------------------ decoder geometry
    @property
    def decoder(self) -> torch.Tensor:
        """[n_latents, d_in], unit rows (tied: a view of the encoder's columns)."""
        return self.W_enc.T if self.W_dec is None else self.W_dec

    def _decoder_param(self) -> tuple[nn.Parameter, int]:
        """The parameter holding the decoder directions and the dim along which each is unit."""
        return (self.W_enc, 0) if self.W_dec is None else (self.W_dec, 1)

    @torch.no_grad()
    def normalize_decoder(self) -> None:
        """Put every decoder direction back on the unit sphere (after an optimiser step)."""
        param, dim = self._decoder_param()
        param.div_(param.norm(dim=dim, keepdim=True).clamp_min(1e-8))

    @torch.no_grad()
    def project_decoder_grad(self) -> None:
        """Remove each direction's gradient component parallel to the direction itself.

        With unit-norm directions that component only changes the norm, which the next
        ``normalize_decoder`` would undo; keeping it would waste Adam's step budget on it.
        """
        param, dim = self._decoder_param()
        if param.grad is None:
            return
        parallel = (param.grad * param).sum(dim=dim, keepdim=True)
        param.grad.sub_(parallel * param)

    def decoder_directions(self):
        """Unit decoder directions as a float32 numpy array [n_latents, d_in]."""
        dec = self.decoder.detach().float()
        return (dec / dec.norm(dim=1, keepdim=True).clamp_min(1e-12)).cpu().numpy()

    # ------------------------------------------------------------------ encoding
    def encode_pre(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-activations [..., n_latents]."""
        return (x - self.b_pre) @ self.W_enc + self.b_enc

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        return pre if self.cfg.signed else F.relu(pre)

    def magnitude(self, act: torch.Tensor) -> torch.Tensor:
        """What selection ranks by: |act| when signed, act itself after a ReLU."""
        return act.abs() if self.cfg.signed else act

    def select_train(self, act: torch.Tensor) -> SparseCode:
        """Training-time selection for topk / batchtopk, without any host sync."""
        cfg = self.cfg
        b, m = act.shape
        mag = self.magnitude(act)
        if cfg.architecture == "topk":
            idx = mag.topk(cfg.k, dim=1, sorted=False).indices
            rows = torch.arange(b, device=act.device).unsqueeze(1).expand(b, cfg.k)
            vals = act.gather(1, idx).reshape(-1)
            return SparseCode(rows.reshape(-1), idx.reshape(-1), vals, per_row=cfg.k)
        # batchtopk: the k·B largest entries of the whole batch; rows may differ in L0
        top = mag.reshape(-1).topk(min(cfg.k * b, b * m), sorted=False)
        flat = top.indices.sort().values
        selected = top.values.detach()
        low = torch.where(selected > 0, selected, torch.inf).min()
        return SparseCode(flat // m, flat % m, act.reshape(-1)[flat], low)

    @torch.no_grad()
    def update_threshold(self, low: torch.Tensor, ema: float) -> None:
        """Move the BatchTopK inference threshold towards this batch's smallest selected
        magnitude (the first batch sets it); tensor ops only, so no host sync."""
        thr = self.threshold
        new = torch.where(thr < 0, low, (1 - ema) * thr + ema * low)
        self.threshold.copy_(torch.where(torch.isfinite(low), new, thr))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Inference-mode dense code [..., n_latents] (BatchTopK keeps entries whose
        magnitude exceeds the learned threshold, so L0 varies by row)."""
        cfg = self.cfg
        lead = x.shape[:-1]
        act = self.activation(self.encode_pre(x.reshape(-1, cfg.d_in)))
        if cfg.architecture == "relu_l1":
            z = act
        elif cfg.architecture == "topk" or bool(self.threshold < 0):
            idx = self.magnitude(act).topk(cfg.k, dim=1).indices
            z = torch.zeros_like(act).scatter(1, idx, act.gather(1, idx))
        else:
            z = torch.where(self.magnitude(act) > self.threshold, act, 0.0)
        return z.reshape(*lead, cfg.n_latents)

    # ------------------------------------------------------------------ decoding
    def _bag_decode(
        self, rows: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, n_bags: int
    ) -> torch.Tensor:
        """Sum of ``vals``-weighted decoder rows per bag; ``rows`` ascending bag ids."""
        offsets = torch.searchsorted(rows, torch.arange(n_bags, device=rows.device))
        return F.embedding_bag(
            cols, self.decoder, offsets, mode="sum", per_sample_weights=vals.to(self.decoder.dtype)
        )

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction [..., d_in] from a dense code [..., n_latents]."""
        lead = z.shape[:-1]
        z2 = z.reshape(-1, self.cfg.n_latents)
        if self.sparse_decode:
            rows, cols = z2.nonzero(as_tuple=True)
            out = self._bag_decode(rows, cols, z2[rows, cols], z2.shape[0]) + self.b_pre
        else:
            out = z2.to(self.decoder.dtype) @ self.decoder + self.b_pre
        return out.reshape(*lead, self.cfg.d_in)

    def decode_prefixes(self, code: SparseCode, batch: int) -> torch.Tensor:
        """Reconstructions from each Matryoshka prefix, [batch, n_prefixes, d_in].

        Built incrementally: block j's contribution is added to prefix j-1's reconstruction,
        so the last prefix *is* the full reconstruction, computed once.
        """
        n_pref, k = len(self.cfg.prefixes), code.per_row
        if not self.sparse_decode:
            z = code.vals.new_zeros(batch, self.cfg.n_latents)
            if k is None:
                z = z.index_put((code.rows, code.cols), code.vals)
            else:  # fixed k per row: a scatter is cheaper than index_put
                z = z.scatter(1, code.cols.view(batch, k), code.vals.view(batch, k))
            return self._dense_prefixes(z)
        if n_pref == 1 and k is not None:  # fixed-size bags need no offsets
            return (self.decode_rows(code.cols.view(batch, k), code.vals.view(batch, k))
                    + self.b_pre).unsqueeze(1)
        rows, cols, vals = code.rows, code.cols, code.vals
        if n_pref > 1:  # one bag per (row, block), so each entry is summed exactly once
            block = torch.bucketize(cols, self._prefix_ends, right=True)
            rows, order = (rows * n_pref + block).sort(stable=True)
            cols, vals = cols[order], vals[order]
        blocks = self._bag_decode(rows, cols, vals, batch * n_pref).view(batch, n_pref, -1)
        return self._accumulate(blocks.unbind(dim=1))

    def prefix_reconstructions(self, z: torch.Tensor) -> torch.Tensor:
        """``decode_prefixes`` for a dense code [B, M] (e.g. from ``encode``)."""
        if self.sparse_decode:
            rows, cols = z.nonzero(as_tuple=True)
            code = SparseCode(rows, cols, z[rows, cols])
            return self.decode_prefixes(code, z.shape[0])
        return self._dense_prefixes(z)

    def _dense_prefixes(self, z: torch.Tensor) -> torch.Tensor:
        """Block matmuls over a dense code: the small-M path of ``decode_prefixes``."""
        dec, ends = self.decoder, self.cfg.prefixes
        if len(ends) == 1:
            return (z @ dec + self.b_pre).unsqueeze(1)
        starts = [0, *ends[:-1]]
        return self._accumulate([z[:, s:e] @ dec[s:e] for s, e in zip(starts, ends, strict=True)])

    def _accumulate(self, blocks: list[torch.Tensor] | tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Running sums b_pre + block_0 + ... + block_j, stacked to [B, P, d] (explicit
        adds: ``cumsum`` along the middle dim is several times slower on CPU)."""
        running, out = self.b_pre, []
        for block in blocks:
            running = running + block
            out.append(running)
        return torch.stack(out, dim=1)

    def decode_rows(self, cols: torch.Tensor, vals: torch.Tensor) -> torch.Tensor:
        """Bias-free decode of a fixed number of latents per row ([B, j] indices/values),
        as the AuxK loss needs; sparse or dense by the same shape rule."""
        if self.sparse_decode:
            return F.embedding_bag(cols, self.decoder, mode="sum", per_sample_weights=vals)
        z = torch.zeros(cols.shape[0], self.cfg.n_latents, dtype=vals.dtype, device=vals.device)
        return z.scatter(1, cols, vals) @ self.decoder

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inference-mode (reconstruction, code)."""
        z = self.encode(x)
        return self.decode(z), z
