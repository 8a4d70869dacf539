"""Inference-mode statistics over a whole matrix, streamed in batches to the model's device.

FVU here uses the variance of the *whole* matrix (not per batch), so it does not depend on
the batch size; sums are accumulated on the device and read back once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from prefscope.errors import InputError
from prefscope.sae.model import SparseAutoencoder


def as_matrix(x: np.ndarray, d_in: int, name: str) -> np.ndarray:
    """``x`` as a C-contiguous float32 [N, d_in] array (no copy when it already is one)."""
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[1] != d_in:
        raise InputError(f"{name} must have shape [N, {d_in}], got {list(arr.shape)}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        bad = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise InputError(f"{name} has a non-finite value", row=bad + 1)
    return arr


def batches(
    x: np.ndarray | torch.Tensor, device: torch.device, batch_size: int
) -> Iterator[torch.Tensor]:
    """Consecutive row blocks of ``x`` as float32 tensors on ``device``."""
    for start in range(0, len(x), batch_size):
        block = x[start : start + batch_size]
        if isinstance(block, np.ndarray):
            block = torch.from_numpy(np.ascontiguousarray(block, dtype=np.float32))
        yield block.to(device=device, dtype=torch.float32, non_blocking=True)


def model_device(model: SparseAutoencoder) -> torch.device:
    return model.b_pre.device


@dataclass
class InferenceStats:
    n: int
    sse: list[float]  # per Matryoshka prefix (one entry when not Matryoshka); last = full
    variance: float  # total squared deviation from the column means
    l1: float  # sum of |z|
    active: float  # number of nonzero code entries
    fired: np.ndarray  # [n_latents] bool: active on at least one row


@torch.no_grad()
def inference_stats(
    model: SparseAutoencoder, x: np.ndarray | torch.Tensor, batch_size: int = 8192
) -> InferenceStats:
    cfg = model.cfg
    device = model_device(model)
    n_pref = 1 if cfg.architecture == "relu_l1" else len(cfg.prefixes)
    sse = torch.zeros(n_pref, dtype=torch.float64, device=device)
    s1 = torch.zeros(cfg.d_in, dtype=torch.float64, device=device)
    s2 = torch.zeros((), dtype=torch.float64, device=device)
    l1 = torch.zeros((), dtype=torch.float64, device=device)
    active = torch.zeros((), dtype=torch.float64, device=device)
    fired = torch.zeros(cfg.n_latents, dtype=torch.bool, device=device)
    for xb in batches(x, device, batch_size):
        z = model.encode(xb)
        if cfg.architecture == "relu_l1":
            recons = model.decode(z).unsqueeze(1)
        else:
            recons = model.prefix_reconstructions(z)
        sse += (recons - xb.unsqueeze(1)).pow(2).sum(dim=(0, 2)).double()
        xd = xb.double()
        s1 += xd.sum(dim=0)
        s2 += xd.pow(2).sum()
        nz = z != 0
        l1 += z.abs().sum().double()
        active += nz.sum()
        fired |= nz.any(dim=0)
    n = len(x)
    variance = (s2 - (s1.pow(2) / max(n, 1)).sum()).clamp_min(0) if n else s2
    return InferenceStats(
        n=n,
        sse=sse.cpu().tolist(),
        variance=float(variance),
        l1=float(l1),
        active=float(active),
        fired=fired.cpu().numpy(),
    )


def validation_loss(
    model: SparseAutoencoder, x: np.ndarray | torch.Tensor, batch_size: int = 8192
) -> tuple[float, float]:
    """(the training objective without AuxK, FVU) in inference mode, for early stopping.

    AuxK is left out: it depends on which latents the *training* run counts as dead, so
    it would make the validation curve move for reasons unrelated to held-out quality.
    """
    s = inference_stats(model, x, batch_size)
    var = max(s.variance, 1e-12)
    fvu = s.sse[-1] / var
    if model.cfg.architecture == "relu_l1":
        n = max(s.n, 1)
        return s.sse[-1] / (n * model.cfg.d_in) + model.cfg.l1_coef * s.l1 / n, fvu
    return float(np.mean([e / var for e in s.sse])), fvu
