"""Per-layer parameter divergence between the base model and the RLHF policy, in fp32.

For block L with parameter tensors θ_1..θ_m, the divergence is the L2 norm of the
*concatenated* difference, ‖(Δθ_1, …, Δθ_m)‖₂ = sqrt(Σ_i ‖Δθ_i‖²), over all the block's
parameters (attention, MLP, norms) and over its MLP parameters only. The reference instead
summed per-tensor norms Σ_i ‖Δθ_i‖ (also reported, as ``sum_of_tensor_norms``), computed them
on int8 quantisation codes, and matched parameters by ``zip`` order; here tensors are matched
by name inside each block, cast to fp32, and squared sums accumulate in fp64.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from prefscope.errors import InputError
from prefscope.io import read_json


def _block_deltas(base_block: Any, tuned_block: Any, layer: int) -> dict[str, Any]:
    import torch

    base = dict(base_block.named_parameters())
    tuned = dict(tuned_block.named_parameters())
    if base.keys() != tuned.keys():
        raise ValueError(f"layer {layer}: parameter names differ: {sorted(set(base) ^ set(tuned))}")
    out = {}
    for name, p in base.items():
        q = tuned[name]
        if p.shape != q.shape:
            raise ValueError(
                f"layer {layer}: {name} has shape {tuple(p.shape)} vs {tuple(q.shape)}"
            )
        with torch.no_grad():
            d = q.detach().to("cpu", torch.float32) - p.detach().to("cpu", torch.float32)
            out[name] = (float(d.double().pow(2).sum()), d.numel())
    return out


def layer_divergence(base: Any, tuned: Any) -> list[dict[str, Any]]:
    """One record per block: ``all_l2``, ``mlp_l2``, ``sum_of_tensor_norms`` and sizes."""
    from prefscope.lfp.models import layer_modules, mlp_module

    base_blocks, tuned_blocks = layer_modules(base), layer_modules(tuned)
    if len(base_blocks) != len(tuned_blocks):
        raise ValueError(f"{len(base_blocks)} vs {len(tuned_blocks)} layers")
    records = []
    for i, (b, t) in enumerate(zip(base_blocks, tuned_blocks, strict=True)):
        deltas = _block_deltas(b, t, i)
        mlp = mlp_module(b)
        mlp_names = {n for n, p in b.named_parameters() if any(p is q for q in mlp.parameters())}
        submodules: dict[str, float] = {}
        for name, (sq, _) in deltas.items():
            head = name.split(".")[0]
            submodules[head] = submodules.get(head, 0.0) + sq
        records.append(
            {
                "layer": i,
                "all_l2": math.sqrt(sum(sq for sq, _ in deltas.values())),
                "mlp_l2": math.sqrt(sum(deltas[n][0] for n in sorted(mlp_names))),
                "sum_of_tensor_norms": sum(math.sqrt(sq) for sq, _ in deltas.values()),
                "n_params": sum(n for _, n in deltas.values()),
                "n_mlp_params": sum(deltas[n][1] for n in mlp_names),
                "submodule_l2": {k: math.sqrt(v) for k, v in sorted(submodules.items())},
            }
        )
    return records


def choose_layers(records: list[dict[str, Any]], k: int, by: str = "all_l2") -> list[int]:
    """The ``k`` most-changed layers (clipped to the layer count), most changed first.

    Ties go to the lower layer index, so the choice is deterministic.
    """
    if by not in {"all_l2", "mlp_l2", "sum_of_tensor_norms"}:
        raise ValueError(f"unknown divergence measure {by!r}")
    ranked = sorted(records, key=lambda r: (-r[by], r["layer"]))
    return [int(r["layer"]) for r in ranked[: max(0, min(k, len(records)))]]


def plot_divergence(
    records: list[dict[str, Any]], chosen: list[int], path: str, title: str
) -> None:
    """Bars of all-parameter and MLP-only divergence per layer; chosen layers starred."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from prefscope.io import atomic_path

    layers = [r["layer"] for r in records]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(layers) + 2), 3.2), layout="constrained")
    width = 0.4
    ax.bar(
        [x - width / 2 for x in layers],
        [r["all_l2"] for r in records],
        width,
        label="all parameters",
    )
    ax.bar([x + width / 2 for x in layers], [r["mlp_l2"] for r in records], width, label="MLP only")
    top = max(r["all_l2"] for r in records) or 1.0
    for layer in chosen:
        ax.text(layer, top * 1.02, "*", ha="center", fontsize=14)
    ax.set_ylim(0, top * 1.12)
    ax.set_xticks(layers)
    ax.set_xlabel("layer (* = chosen)")
    ax.set_ylabel("‖Δθ‖₂ (fp32)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def chosen_layers(path: str | Path) -> list[int]:
    """The layers picked by the divergence rule (``chosen_layers`` in divergence.json)."""
    data = read_json(path)
    if "chosen_layers" not in data:
        raise InputError("no 'chosen_layers' key", file=str(path))
    return sorted(int(x) for x in data["chosen_layers"])
