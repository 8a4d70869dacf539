"""Training loop: shuffled index slices (no DataLoader), Adam, decoder-norm maintenance,
dead-latent tracking, BatchTopK threshold EMA, early stopping that restores the best
weights. Seeded through one ``torch.Generator``: the same data and seed give the same
weights (bit for bit on CPU).

The step never syncs with the device: losses, dead counters and the threshold stay
tensors, and the host reads them once per epoch.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import torch
from tqdm.auto import tqdm

from prefscope.errors import InputError
from prefscope.sae.config import SAEConfig, TrainConfig
from prefscope.sae.loss import training_loss
from prefscope.sae.metrics import as_matrix, validation_loss
from prefscope.sae.model import SparseAutoencoder

log = logging.getLogger("prefscope.sae")

IMPROVEMENT = 1e-6  # smaller validation gains count as no improvement
VAL_BATCH = 8192


def resolve_device(name: str | None) -> torch.device:
    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))


def _stage(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """The training matrix where the batches will be cut from: on the GPU when it fits in a
    quarter of the free memory, else in pinned host memory (moved batch by batch)."""
    t = torch.from_numpy(x)
    if device.type != "cuda":
        return t.to(device)
    free, _ = torch.cuda.mem_get_info(device)
    return t.to(device) if t.nbytes < free // 4 else t.pin_memory()


def _batch_starts(n: int, batch_size: int) -> range:
    """Full batches only (``batch_size <= n``): a tiny tail batch has almost no variance and
    its normalised MSE would blow up; the shuffle drops different rows every epoch."""
    return range(0, n - batch_size + 1, batch_size)


def column_median(x: np.ndarray, block: int = 32) -> np.ndarray:
    """``np.median(x, axis=0)`` a few columns at a time: the same numbers, but the copy
    that median sorts is [rows, block] instead of the whole matrix."""
    return np.concatenate(
        [np.median(x[:, j : j + block], axis=0) for j in range(0, x.shape[1], block)]
    ).astype(x.dtype, copy=False)


def _snapshot(model: SparseAutoencoder) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def make_optimizer(model: SparseAutoencoder, lr: float) -> torch.optim.Optimizer:
    """Adam over every parameter; the fused kernel (one pass over all parameters, moments
    and gradients) where torch has it for the device, which on CPU makes the update ~10x
    cheaper than the per-tensor loop (same maths, deterministic)."""
    params = list(model.parameters())
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError):  # older torch or a device without the fused kernel
        return torch.optim.Adam(params, lr=lr)


def train_step(
    model: SparseAutoencoder,
    opt: torch.optim.Optimizer,
    xb: torch.Tensor,
    since_fired: torch.Tensor,
    step: int,
    train_cfg: TrainConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimisation step on batch ``xb``; returns (detached loss, updated counters of
    steps since each latent last fired). Only training steps advance those counters."""
    cfg = model.cfg
    # AuxK only once a latent *can* be dead: saves its work in the first dead_steps steps
    parts = training_loss(model, xb, since_fired >= cfg.dead_steps, with_aux=step >= cfg.dead_steps)
    opt.zero_grad(set_to_none=True)
    parts.loss.backward()
    model.project_decoder_grad()
    torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg.grad_clip)
    opt.step()
    model.normalize_decoder()
    with torch.no_grad():
        since_fired = torch.where(parts.fired, 0, since_fired + 1)
        if parts.low is not None:
            model.update_threshold(parts.low, train_cfg.threshold_ema)
    return parts.loss.detach(), since_fired


def _new_model(
    x_np: np.ndarray, cfg: SAEConfig, gen: torch.Generator, device: torch.device
) -> SparseAutoencoder:
    """A freshly initialised SAE (seeded by ``gen``) centred on the data, in training mode."""
    model = SparseAutoencoder(cfg, generator=gen)
    with torch.no_grad():  # robust centre; averages the middle pair, so sign-flip-augmented
        model.b_pre.copy_(torch.from_numpy(column_median(x_np)))  # data gets exactly 0
    model.to(device).train()
    return model


def _run_epoch(
    model: SparseAutoencoder,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    batching: tuple[torch.Generator, int, torch.device],
    since_fired: torch.Tensor,
    step: int,
    train_cfg: TrainConfig,
    epoch: int,
) -> tuple[float, torch.Tensor, int]:
    """One shuffled pass over full batches of ``x``: (mean train loss, dead counters, step).

    ``batching`` is (generator of the shuffle, batch size, device of the model). The loss is
    read from the device here, once per epoch.
    """
    gen, bs, device = batching
    n = len(x)
    order = torch.randperm(n, generator=gen).to(x.device)
    total = torch.zeros((), device=device)
    starts = _batch_starts(n, bs)
    for start in starts:
        xb = x[order[start : start + bs]].to(device, non_blocking=True)
        loss, since_fired = train_step(model, opt, xb, since_fired, step, train_cfg)
        total += loss
        step += 1

    train_loss = float(total) / len(starts)
    if not math.isfinite(train_loss):
        raise FloatingPointError(
            f"SAE training diverged in epoch {epoch} (loss {train_loss}); lower the lr"
        )
    return train_loss, since_fired, step


def _log_done(cfg: SAEConfig, history: dict, best_val: str) -> None:
    log.info(
        "SAE %s M=%d k=%d: %d epochs (%s), best epoch %d, val loss %s, %.1fs",
        cfg.architecture,
        cfg.n_latents,
        cfg.k,
        history["epochs_run"],
        "stopped early" if history["stopped_early"] else "ran to max_epochs",
        history["best_epoch"],
        best_val,
        history["seconds"],
    )


def train_sae(
    x_train: np.ndarray,
    x_val: np.ndarray | None,
    cfg: SAEConfig,
    train_cfg: TrainConfig,
) -> tuple[SparseAutoencoder, dict]:
    """Train an SAE on rows of ``x_train``; returns (model in eval mode, history).

    With ``x_val``, stops once the validation loss (the objective without AuxK, in
    inference mode) has not improved by more than 1e-6 for ``patience`` epochs, never
    before ``min_epochs``, and restores the best epoch's weights. Without it, runs
    ``max_epochs``. History: per-epoch ``train_loss``, ``val_loss``, ``val_fvu``,
    ``dead_fraction``; ``best_epoch``, ``stopped_early``, ``epochs_run``, ``seconds``.
    """
    started = time.perf_counter()
    x_np = as_matrix(x_train, cfg.d_in, "x_train")
    if len(x_np) < 2:
        raise InputError(f"x_train needs at least 2 rows, got {len(x_np)}")
    xv = None if x_val is None else as_matrix(x_val, cfg.d_in, "x_val")
    if xv is not None and len(xv) == 0:
        xv = None
    device = resolve_device(train_cfg.device)
    gen = torch.Generator().manual_seed(train_cfg.seed)

    model = _new_model(x_np, cfg, gen, device)
    x = _stage(x_np, device)
    opt = make_optimizer(model, train_cfg.lr)
    since_fired = torch.zeros(cfg.n_latents, dtype=torch.long, device=device)
    n, step = len(x_np), 0
    bs = min(train_cfg.batch_size, n)  # a data set smaller than a batch is one batch

    history: dict = {"train_loss": [], "val_loss": [], "val_fvu": [], "dead_fraction": []}
    best_loss, best_state, best_epoch, bad_epochs = math.inf, None, -1, 0
    stopped_early = False
    bar = tqdm(
        range(train_cfg.max_epochs),
        desc="SAE",
        unit="epoch",
        disable=not train_cfg.progress,
        leave=False,
    )
    for epoch in bar:
        train_loss, since_fired, step = _run_epoch(
            model, opt, x, (gen, bs, device), since_fired, step, train_cfg, epoch
        )
        history["train_loss"].append(train_loss)
        history["dead_fraction"].append(float((since_fired >= cfg.dead_steps).float().mean()))
        postfix = {"train": f"{train_loss:.4f}", "dead": f"{history['dead_fraction'][-1]:.2f}"}
        if xv is not None:
            model.eval()
            val_loss, val_fvu = validation_loss(model, xv, VAL_BATCH)
            model.train()
            history["val_loss"].append(val_loss)
            history["val_fvu"].append(val_fvu)
            postfix["val"] = f"{val_loss:.4f}"
            if val_loss < best_loss - IMPROVEMENT:
                best_loss, best_state, best_epoch, bad_epochs = val_loss, _snapshot(model), epoch, 0
            else:
                bad_epochs += 1
            bar.set_postfix(postfix)
            if bad_epochs >= train_cfg.patience and epoch + 1 >= train_cfg.min_epochs:
                stopped_early = True
                break
        else:
            bar.set_postfix(postfix)
    bar.close()

    if best_state is not None:
        model.load_state_dict(best_state)
    epochs_run = len(history["train_loss"])
    history.update(
        best_epoch=best_epoch if xv is not None else epochs_run - 1,
        stopped_early=stopped_early,
        epochs_run=epochs_run,
        seconds=time.perf_counter() - started,
    )
    _log_done(cfg, history, f"{best_loss:.5f}" if xv is not None else "n/a")
    return model.eval(), history
