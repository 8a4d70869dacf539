"""Training losses: (Matryoshka) normalised MSE, AuxK for dead latents, MSE + L1.

Everything stays a tensor: the training step never waits on the device (no ``.item()``,
no boolean-mask indexing, no data-dependent Python branches).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from prefscope.sae.model import SparseAutoencoder


@dataclass
class LossParts:
    """The step's loss and what the training loop needs from it (all tensors)."""

    loss: torch.Tensor
    fvu: torch.Tensor  # full reconstruction (relu_l1: the MSE it is trained on)
    aux: torch.Tensor  # AuxK term before its coefficient (relu_l1: the L1 penalty)
    fired: torch.Tensor  # [n_latents] bool: active on at least one row of the batch
    low: torch.Tensor | None  # BatchTopK threshold target (None for other architectures)


def total_variance(x: torch.Tensor) -> torch.Tensor:
    """Sum of squared deviations from the batch mean: the denominator of a normalised MSE
    (the error of predicting every row by the mean), i.e. SSE / this = FVU."""
    return torch.linalg.vector_norm(x - x.mean(dim=0)).square().clamp_min(1e-12)


def auxk_loss(
    model: SparseAutoencoder,
    x: torch.Tensor,
    act: torch.Tensor,
    recon: torch.Tensor,
    dead: torch.Tensor,
    pick: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """AuxK (Gao et al. 2024): the strongest dead latents of each row must reconstruct the
    residual the live ones leave, which gives dead latents a gradient back into use.

    ``act`` ranks the latents; ``pick(indices [B, j])`` returns their differentiable
    activations (default: gathered from ``act``; training passes the sparse path).
    Normalised by the residual's own variance; exactly 0 when no latent is dead.
    """
    mag = model.magnitude(act.detach())
    top = torch.where(dead, mag, -torch.inf).topk(model.cfg.aux_latents, dim=1)
    picked = act.gather(1, top.indices) if pick is None else pick(top.indices)
    vals = picked * torch.isfinite(top.values)  # live picks weigh 0
    residual = x - recon.detach()
    err = (model.decode_rows(top.indices, vals) - residual).pow(2).sum()
    return err / total_variance(residual) * dead.any()


def training_loss(
    model: SparseAutoencoder, x: torch.Tensor, dead: torch.Tensor, with_aux: bool = True
) -> LossParts:
    """One batch's training objective.

    TopK / BatchTopK: mean over Matryoshka prefixes of the normalised MSE (one prefix when
    not Matryoshka) + ``aux_coef`` × AuxK. ReLU+L1: plain MSE + ``l1_coef`` × mean L1, as in
    the LFP paper, so its ``l1_coef`` keeps the paper's meaning. ``with_aux=False`` skips
    the AuxK work when no latent can be dead yet (fewer steps than ``dead_steps``).
    """
    cfg = model.cfg
    if cfg.architecture == "relu_l1":
        act = model.activation(model.encode_pre(x))
        recon = act @ model.decoder + model.b_pre
        mse = (recon - x).pow(2).mean()
        l1 = act.abs().sum(dim=1).mean()
        fired = (act > 0).any(dim=0)
        return LossParts(mse + cfg.l1_coef * l1, mse, l1, fired, None)
    enc, code = model.sparse_code(x)
    # each prefix's squared error is one fused pass (no [B, P, d] stack of reconstructions)
    recons = model.running_reconstructions(code, x.shape[0])
    recon = recons[-1]
    sses = [F.mse_loss(r, x, reduction="sum") for r in recons]
    fvus = torch.stack(sses) / total_variance(x)
    loss = fvus.mean()
    # On CPU, asking whether any latent is dead costs nothing (no device to wait for) and
    # saves the AuxK work when none is; on a GPU the branch-free form avoids the sync.
    if with_aux and x.device.type == "cpu":
        with_aux = bool(dead.any())
    if with_aux and cfg.aux_coef > 0:
        b, j = x.shape[0], cfg.aux_latents
        rows = torch.arange(b, device=x.device).repeat_interleave(j)

        def pick(idx: torch.Tensor) -> torch.Tensor:
            return model.activations_at(enc, rows, idx.reshape(-1), j).view(b, j)

        aux = auxk_loss(model, x, enc.rank, recon, dead, pick)
        loss = loss + cfg.aux_coef * aux
    else:
        aux = loss.new_zeros(())
    hits = torch.zeros(cfg.n_latents, device=x.device).index_add_(
        0, code.cols, (code.vals != 0).to(torch.float32)
    )
    return LossParts(loss, fvus[-1], aux, hits > 0, code.low)
