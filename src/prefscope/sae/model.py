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

Training goes one step further (``sparse_code``): the dense pre-activations are computed
without autograd, and only the selected entries re-enter the graph through
``_PreactEntries``, whose backward touches those entries alone. The encoder gradient is a
sparse [M x B] by dense [B x d] product (B·k·d work instead of the B·M·d of a dense
backward), and the b_pre gradient follows from ``(x - b_pre) W = x W - b_pre W`` as
``-W_enc @ grad(b_enc)``, a matrix-vector product instead of another B×M×d matmul.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from prefscope.sae.config import SAEConfig

# Sparse decoding pays off once a row's latents outnumber its active ones by this factor
# (one CPU thread, full training step: dense wins at M/k = 8, break-even near 16, sparse
# 1.5x faster at M/k = 32 (d=1536, M=256) and 2x at 128 (d=512, M=4096)).
SPARSE_DECODE_MIN_RATIO = 16
# devices whose encoder backward uses torch.sparse.mm (tested here); others use index_add
SPARSE_MM_DEVICES = ("cpu",)
# BatchTopK over fewer entries than this takes one flat top-n (already fast on CPU)
BATCH_TOPK_TWO_STAGE_MIN = 1 << 19


class SparseCode(NamedTuple):
    """The active entries of a batch as (row, latent, value) triples, rows ascending."""

    rows: torch.Tensor  # [n] int64
    cols: torch.Tensor  # [n] int64
    vals: torch.Tensor  # [n] signed activations; carries the gradient
    low: torch.Tensor | None = None  # BatchTopK: smallest nonzero selected magnitude
    per_row: int | None = None  # TopK: exactly this many entries per row, row-major


class EncoderPass(NamedTuple):
    """A batch's encoder forward computed without autograd (``SparseAutoencoder.encoder_pass``)."""

    xc: torch.Tensor  # x - b_pre, [B, d]
    pre: torch.Tensor  # pre-activations [B, M]

    @property
    def rank(self) -> torch.Tensor:
        """What selection ranks by, with the ReLU left out: ranking by ``pre`` picks the
        same positive entries as ranking by ``relu(pre)``, and where a row has too few it
        picks entries whose activation is 0 either way (zero value, zero gradient)."""
        return self.pre


class _PreactEntries(torch.autograd.Function):
    """``pre[rows, cols]`` of ``pre = (x - b_pre) W_enc + b_enc`` with a sparse backward.

    The forward only gathers (``pre`` was computed without autograd). The backward gives
    the exact gradients of the dense expression in O(n·d) for n entries: W_enc's from a
    sparse-by-dense product, b_enc's by index_add, b_pre's as ``-W_enc @ grad(b_enc)``.
    ``rows`` must be ascending (row-major entries, as selection produces them).
    """

    @staticmethod
    def forward(ctx, w_enc, b_enc, b_pre, xc, pre, rows, cols, per_row):
        b, m = pre.shape
        if per_row is not None:
            crow = torch.arange(0, len(cols) + 1, per_row, device=cols.device)
            vals = pre.gather(1, cols.view(b, per_row)).reshape(-1)
        else:
            crow = torch.searchsorted(rows, torch.arange(b + 1, device=rows.device))
            vals = pre[rows, cols]
        ctx.save_for_backward(w_enc, xc, rows, cols, crow)
        ctx.n_latents = m
        return vals

    @staticmethod
    def backward(ctx, grad):
        w_enc, xc, rows, cols, crow = ctx.saved_tensors
        grad = grad.contiguous()
        g_w = g_pre = None
        g_benc = grad.new_zeros(ctx.n_latents).index_add_(0, cols, grad)
        if ctx.needs_input_grad[0] and xc.device.type not in SPARSE_MM_DEVICES:
            # the portable form (B·k×d temporary); torch.sparse.mm is only relied on on CPU
            g_w = w_enc.new_zeros(ctx.n_latents, len(w_enc))
            g_w = g_w.index_add_(0, cols, xc[rows] * grad[:, None]).T
        elif ctx.needs_input_grad[0]:
            with warnings.catch_warnings():  # "sparse CSR support is in beta state"
                warnings.simplefilter("ignore", UserWarning)
                g = torch.sparse_csr_tensor(
                    crow, cols, grad, (len(crow) - 1, ctx.n_latents), check_invariants=False
                )
            # [M, d] product, transposed: faster than computing [d, M] directly, and
            # fused Adam wants W_enc's own contiguous layout (one M×d copy)
            g_w = torch.sparse.mm(g.t(), xc).t().contiguous()
        if ctx.needs_input_grad[2]:
            g_pre = -(w_enc @ g_benc)
        return g_w, g_benc, g_pre, None, None, None, None, None


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
        self._candidates = 2 * cfg.k  # per-row candidates of the two-stage BatchTopK
        self.sparse_decode = cfg.architecture != "relu_l1" and m >= SPARSE_DECODE_MIN_RATIO * cfg.k

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

    def _select(self, mag: torch.Tensor) -> SparseCode:
        """Which entries training keeps, by ``mag`` [B, M] (values left empty)."""
        cfg = self.cfg
        b, m = mag.shape
        if cfg.architecture == "topk":
            idx = mag.topk(cfg.k, dim=1, sorted=False).indices
            rows = torch.arange(b, device=mag.device).repeat_interleave(cfg.k)
            return SparseCode(rows, idx.reshape(-1), mag.new_empty(0), per_row=cfg.k)
        # batchtopk: the k·B largest entries of the whole batch; rows may differ in L0
        selected, flat = self._batch_topk(mag.detach(), min(cfg.k * b, b * m))
        flat = flat.sort().values
        low = torch.where(selected > 0, selected, torch.inf).min()
        return SparseCode(flat // m, flat % m, mag.new_empty(0), low)

    def _batch_topk(self, mag: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``n`` largest entries of ``mag`` [B, M] as (values, flat indices).

        On CPU a flat top-n over B·M entries is slow; candidates from a per-row top-c
        (c = 2k to start) followed by a top-n over B·c of them give the same entries as
        long as no row has all its c candidates selected (then every entry left out of a
        row is <= one that was not selected). When a row does, the flat top-n is used and
        c doubles for later steps. GPUs (fast flat top-n, no host sync wanted) skip this.
        """
        b, m = mag.shape
        c = self._candidates
        if mag.device.type != "cpu" or b * m < BATCH_TOPK_TWO_STAGE_MIN or 8 * c > m:
            return tuple(mag.reshape(-1).topk(n, sorted=False))
        cand = mag.topk(c, dim=1, sorted=False)
        top = cand.values.reshape(-1).topk(n, sorted=False)
        if int(torch.bincount(top.indices // c, minlength=b).max()) < c:
            rows = top.indices // c
            return top.values, rows * m + cand.indices.reshape(-1)[top.indices]
        self._candidates = 2 * c
        return tuple(mag.reshape(-1).topk(n, sorted=False))

    def select_train(self, act: torch.Tensor) -> SparseCode:
        """Training-time selection for topk / batchtopk from dense activations (values
        gathered from ``act``, so autograd runs through it), without any host sync."""
        code = self._select(self.magnitude(act.detach()))
        if code.per_row is not None:
            vals = act.gather(1, code.cols.view(-1, code.per_row)).reshape(-1)
        else:
            vals = act[code.rows, code.cols]
        return code._replace(vals=vals)

    def encoder_pass(self, x: torch.Tensor) -> EncoderPass:
        """The dense encoder forward of a training batch [B, d], outside autograd."""
        with torch.no_grad():
            xc = x - self.b_pre
            return EncoderPass(xc, torch.addmm(self.b_enc, xc, self.W_enc))

    def activations_at(
        self, enc: EncoderPass, rows: torch.Tensor, cols: torch.Tensor, per_row: int | None
    ) -> torch.Tensor:
        """Activations at entries (rows ascending; ``per_row`` when every row has that
        many, row-major) carrying the exact gradient into W_enc, b_enc and b_pre through
        the sparse backward of ``_PreactEntries``."""
        pre = _PreactEntries.apply(
            self.W_enc, self.b_enc, self.b_pre, enc.xc, enc.pre, rows, cols, per_row
        )
        return self.activation(pre)

    def sparse_code(self, x: torch.Tensor) -> tuple[EncoderPass, SparseCode]:
        """Training forward up to the code: the no-grad encoder pass and the selected
        entries, whose values alone are differentiable (topk / batchtopk only)."""
        enc = self.encoder_pass(x)
        code = self._select(self.magnitude(enc.rank))
        return enc, code._replace(vals=self.activations_at(enc, code.rows, code.cols, code.per_row))

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
        return self._accumulate(self.decode_blocks(code, batch))

    def decode_blocks(self, code: SparseCode, batch: int) -> list[torch.Tensor]:
        """Bias-free contribution of each Matryoshka block (latents between two prefix
        ends) to the reconstruction, each [batch, d_in]; one block when not Matryoshka."""
        n_pref, k = len(self.cfg.prefixes), code.per_row
        if not self.sparse_decode:
            z = code.vals.new_zeros(batch, self.cfg.n_latents)
            if k is None:
                z = z.index_put((code.rows, code.cols), code.vals)
            else:  # fixed k per row: a scatter is cheaper than index_put
                z = z.scatter(1, code.cols.view(batch, k), code.vals.view(batch, k))
            return self._dense_blocks(z)
        if n_pref == 1 and k is not None:  # fixed-size bags need no offsets
            return [self.decode_rows(code.cols.view(batch, k), code.vals.view(batch, k))]
        rows, cols, vals = code.rows, code.cols, code.vals
        if n_pref > 1:  # one bag per (row, block), so each entry is summed exactly once
            block = torch.bucketize(cols, self._prefix_ends, right=True)
            rows, order = (rows * n_pref + block).sort(stable=True)
            cols, vals = cols[order], vals[order]
        blocks = self._bag_decode(rows, cols, vals, batch * n_pref).view(batch, n_pref, -1)
        return list(blocks.unbind(dim=1))

    def running_reconstructions(self, code: SparseCode, batch: int) -> list[torch.Tensor]:
        """Each Matryoshka prefix's reconstruction (b_pre included), [batch, d_in] each, as
        training uses them: on the dense path every prefix is one ``addmm`` onto the one
        before (no separate bias or running-sum passes over [batch, d_in])."""
        if self.sparse_decode:
            out, running = [], self.b_pre
            for block in self.decode_blocks(code, batch):
                running = running + block
                out.append(running)
            return out
        z = code.vals.new_zeros(batch, self.cfg.n_latents)
        if code.per_row is None:
            z = z.index_put((code.rows, code.cols), code.vals)
        else:
            k = code.per_row
            z = z.scatter(1, code.cols.view(batch, k), code.vals.view(batch, k))
        dec, ends = self.decoder, self.cfg.prefixes
        out, running = [], self.b_pre
        for s, e in zip([0, *ends[:-1]], ends, strict=True):
            running = torch.addmm(running, z[:, s:e], dec[s:e])
            out.append(running)
        return out

    def prefix_reconstructions(self, z: torch.Tensor) -> torch.Tensor:
        """``decode_prefixes`` for a dense code [B, M] (e.g. from ``encode``)."""
        if self.sparse_decode:
            rows, cols = z.nonzero(as_tuple=True)
            code = SparseCode(rows, cols, z[rows, cols])
            return self.decode_prefixes(code, z.shape[0])
        return self._accumulate(self._dense_blocks(z))

    def _dense_blocks(self, z: torch.Tensor) -> list[torch.Tensor]:
        """Block matmuls over a dense code: the small-M path of ``decode_blocks``."""
        dec, ends = self.decoder, self.cfg.prefixes
        if len(ends) == 1:
            return [z @ dec]
        starts = [0, *ends[:-1]]
        return [z[:, s:e] @ dec[s:e] for s, e in zip(starts, ends, strict=True)]

    def _accumulate(self, blocks: list[torch.Tensor]) -> torch.Tensor:
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
