"""Stage of the ``lfp_layers`` rule: which layers the fine-tune changed most."""

from __future__ import annotations

import logging
from typing import Any

from prefscope.io import write_json
from prefscope.lfp.layers.divergence import choose_layers, layer_divergence, plot_divergence
from prefscope.lfp.models import layer_path, load_model

log = logging.getLogger(__name__)


def lfp_divergence(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Base vs policy -> per-layer divergence JSON, plot, and the chosen layers."""
    base, _ = load_model(inputs["base"], device="cpu")
    policy, _ = load_model(inputs["policy"], device="cpu")
    records = layer_divergence(base, policy)
    by = params["rank_by"]
    chosen = choose_layers(records, params["n_layers_keep"], by)
    result = {
        "measure": "L2 norm of the concatenated fp32 parameter difference per layer "
        "(all_l2: every parameter of the block; mlp_l2: MLP parameters only); "
        "sum_of_tensor_norms is the reference's per-tensor sum",
        "rank_by": by,
        "n_layers": len(records),
        "n_layers_keep": params["n_layers_keep"],
        "chosen_layers": chosen,
        "layer_path": layer_path(base),
        "layers": records,
        "base": str(inputs["base"]),
        "policy": str(inputs["policy"]),
    }
    write_json(outputs["divergence"], result)
    plot_divergence(records, chosen, outputs["plot"], f"layer divergence ({by})")
    log.info("divergence by %s: chosen layers %s", by, chosen)
