"""Using a trained SAE: batched encoding, metrics, safetensors I/O, dictionary overlap."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from scipy.optimize import linear_sum_assignment

from prefscope.errors import InputError
from prefscope.io import atomic_path, write_json
from prefscope.sae.config import SAEConfig
from prefscope.sae.metrics import as_matrix, batches, inference_stats, model_device
from prefscope.sae.model import SparseAutoencoder

FORMAT = "prefscope-sae"
FORMAT_VERSION = 1


@torch.no_grad()
def encode(model: SparseAutoencoder, x: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    """Inference-mode codes float32 [N, n_latents]; rows go to the model's device in batches."""
    x = as_matrix(x, model.cfg.d_in, "x")
    out = np.empty((len(x), model.cfg.n_latents), dtype=np.float32)
    start = 0
    for xb in batches(x, model_device(model), batch_size):
        out[start : start + len(xb)] = model.encode(xb).float().cpu().numpy()
        start += len(xb)
    return out


def evaluate(model: SparseAutoencoder, x: np.ndarray, batch_size: int = 8192) -> dict:
    """Inference-mode quality on ``x``: ``fvu`` (SSE over total variance about the column
    means), ``mse`` (per element), ``l0`` (mean active latents per row), ``dead_fraction``
    (latents never active on ``x``) and ``n`` rows."""
    x = as_matrix(x, model.cfg.d_in, "x")
    s = inference_stats(model, x, batch_size)
    n = max(s.n, 1)
    return {
        "fvu": s.sse[-1] / s.variance if s.variance > 0 else float("nan"),
        "mse": s.sse[-1] / (n * model.cfg.d_in),
        "l0": s.active / n,
        "dead_fraction": float(1.0 - s.fired.mean()),
        "n": s.n,
    }


def save_sae(model: SparseAutoencoder, directory: str | Path) -> None:
    """``model.safetensors`` (weights + threshold) and ``config.json``, each atomic."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(directory / "model.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT})
    write_json(
        directory / "config.json",
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": asdict(model.cfg),
            "threshold": float(model.threshold),
            "tensors": {k: list(v.shape) for k, v in tensors.items()},
        },
    )


def load_sae(directory: str | Path, device: str | torch.device | None = None) -> SparseAutoencoder:
    """Load what ``save_sae`` wrote (safetensors only, never pickle); every tensor must be
    present with exactly the shape the saved config implies. CPU unless ``device``."""
    directory = Path(directory)
    cfg_path, weights_path = directory / "config.json", directory / "model.safetensors"
    for path in (cfg_path, weights_path):
        if not path.is_file():
            raise InputError("missing SAE file", file=str(path))
    try:
        meta = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON ({err})", file=str(cfg_path)) from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(f"not a {FORMAT} config", file=str(cfg_path))
    if meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"unsupported format_version {meta.get('format_version')!r}", file=str(cfg_path)
        )
    cfg = SAEConfig.from_dict(meta["config"], file=str(cfg_path))
    model = SparseAutoencoder(cfg)
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError) as err:
        raise InputError(f"unreadable safetensors ({err})", file=str(weights_path)) from err
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        diff = sorted(
            f"{k}: expected {expected.get(k)}, found {got.get(k)}"
            for k in set(expected) | set(got)
            if expected.get(k) != got.get(k)
        )
        raise InputError(
            "tensors do not match the config: " + "; ".join(diff), file=str(weights_path)
        )
    model.load_state_dict(state, strict=True)
    return model.to(device or "cpu").eval()


def mmcs(dec_a: np.ndarray, dec_b: np.ndarray) -> dict:
    """Mean max cosine similarity under a one-to-one (Hungarian) matching of directions.

    Rows are decoder directions ([M_a, d], [M_b, d], normalised here). Returns
    ``{"mmcs": mean matched cosine, "pairs": [(i, j, cos), ...]}``: ``i`` indexes
    ``dec_a``, ``j`` its match in ``dec_b``, best first; min(M_a, M_b) pairs. Cosines are
    signed: for ReLU SAEs a direction and its negation are different features.
    """
    a, b = np.asarray(dec_a, np.float64), np.asarray(dec_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise InputError(f"decoders must be [M, d] with equal d, got {a.shape} and {b.shape}")
    if len(a) == 0 or len(b) == 0:
        return {"mmcs": float("nan"), "pairs": []}
    a = a / np.linalg.norm(a, axis=1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=1, keepdims=True).clip(1e-12)
    cos = a @ b.T
    rows, cols = linear_sum_assignment(cos, maximize=True)
    pairs = sorted(
        ((int(i), int(j), float(cos[i, j])) for i, j in zip(rows, cols, strict=True)),
        key=lambda p: (-p[2], p[0]),
    )
    return {"mmcs": float(np.mean([p[2] for p in pairs])), "pairs": pairs}
