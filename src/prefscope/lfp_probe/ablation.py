"""Zero-ablate relevant features through SAEs spliced into the fine-tuned model (Table 6).

A forward hook on a chosen layer's MLP replaces its output by the small SAE's
reconstruction computed from the SAE *code* with the selected features set to zero — the
features are zeroed before decoding (the reference zeroed coordinates of the reconstruction,
loaded a randomly initialised model of the wrong class and ablated an empty list).

Splicing an SAE changes the model even with nothing zeroed (reconstruction error), so four
conditions are sampled with identical prefixes (the run's held-out evaluation prefixes, which
end before the review word), batches, sampling settings and seeds
(``prefscope.rlhf.sample``, the sampler of the before/after reward):

* ``original``: the fine-tuned model, no hook;
* ``spliced``: SAEs spliced in at the layers that have relevant features, nothing zeroed;
* ``ablated``: spliced, relevant features zeroed;
* ``random``: spliced, as many random non-relevant features zeroed per layer (control).

The effect of the ablation is ``ablated − spliced``, and ``random − spliced`` says how much
of it any features of that count would cause. Rewards use the training reward function on
the completions (``prefscope.rlhf.reward.vader_reward``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

log = logging.getLogger("prefscope.lfp_probe.ablation")


def ablated_reconstruction(sae: Any, x: Any, zero: Sequence[int]) -> Any:
    """Decode of the SAE code of ``x`` with features ``zero`` set to 0 (torch in, torch out)."""
    import torch

    codes = sae.encode(x.float())
    if len(zero):
        codes = codes.clone()
        codes[..., torch.as_tensor(list(zero), dtype=torch.long, device=codes.device)] = 0
    return sae.decode(codes).to(x.dtype)


@contextlib.contextmanager
def splice_saes(
    model: Any, saes: dict[int, Any], zero: dict[int, Sequence[int]]
) -> Iterator[None]:
    """Replace the MLP output of each layer in ``zero`` by the ablated SAE reconstruction.

    Hooks are removed on exit, also on error. ``zero[layer]`` may be empty (splice only).
    """
    from prefscope.harvest import _first_tensor
    from prefscope.rlhf.models import layer_modules, mlp_module

    blocks = layer_modules(model)
    handles = []
    try:
        for layer, features in zero.items():
            sae = saes[int(layer)]
            device = next(model.parameters()).device
            sae.to(device)

            def hook(_m: Any, _i: Any, output: Any, sae: Any = sae, features=tuple(features)):
                recon = ablated_reconstruction(sae, _first_tensor(output), features)
                return (recon, *output[1:]) if isinstance(output, tuple) else recon

            handles.append(mlp_module(blocks[int(layer)]).register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


def random_control(
    relevant: dict[int, Sequence[int]], widths: dict[int, int], seed: int
) -> dict[int, list[int]]:
    """Per layer, as many random features as ``relevant`` has, drawn from the others."""
    rng = np.random.default_rng(seed)
    out = {}
    for layer, feats in relevant.items():
        pool = np.setdiff1d(np.arange(widths[layer]), np.asarray(feats, dtype=int))
        k = min(len(feats), len(pool))
        out[layer] = sorted(int(i) for i in rng.choice(pool, size=k, replace=False))
    return out


def stage(inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int):
    """Policy + small SAEs + explanations -> ablation.json, completions.parquet."""
    import polars as pl

    from prefscope.harvest import chosen_layers, load_policy
    from prefscope.io import read_json, write_json, write_parquet
    from prefscope.lfp_probe.deltas import load_layer_saes
    from prefscope.rlhf.reward import vader_reward
    from prefscope.rlhf.sample import SampleConfig, pick_prefixes, sample_completions

    cfg = SampleConfig(**params["ablation"])
    layers = chosen_layers(inputs["divergence"])
    saes = load_layer_saes(inputs["sae"], layers)
    model, tokenizer = load_policy(inputs["policy"])
    table = pl.read_parquet(inputs["prefixes"])
    prefixes = pick_prefixes(table.filter(pl.col("split") == "eval")["prefix"].to_list(),
                             cfg.n_completions)

    relevant: dict[int, list[int]] = {}
    for feat in read_json(inputs["explanations"])["features"]:
        if feat["relevant"]:
            relevant.setdefault(int(feat["layer"]), []).append(int(feat["small"]))
    widths = {layer: int(saes[layer].decoder_directions().shape[0]) for layer in layers}
    control = random_control(relevant, widths, cfg.seed)
    conditions: dict[str, dict[int, list[int]] | None] = {"original": None}
    if relevant:
        conditions.update(
            spliced={layer: [] for layer in relevant}, ablated=relevant, random=control
        )
    rows: dict[str, list[Any]] = {"condition": [], "prefix": [], "completion": [], "reward": []}
    reward: dict[str, float | None] = {k: None for k in ("original", "spliced", "ablated",
                                                          "random")}
    for name, zero in conditions.items():
        with contextlib.ExitStack() as stack:
            if zero is not None:
                stack.enter_context(splice_saes(model, saes, zero))
            completions = sample_completions(model, tokenizer, prefixes, cfg)
        scores = [float(r) for r in vader_reward(completions)]
        reward[name] = float(np.mean(scores))
        rows["condition"] += [name] * len(completions)
        rows["prefix"] += prefixes
        rows["completion"] += completions
        rows["reward"] += scores
        log.info("%s: mean reward %.3f", name, reward[name])
    write_parquet(outputs["completions"], pl.DataFrame(rows))
    write_json(
        outputs["ablation"],
        {
            "mean_reward": reward,
            "effect_ablated_minus_spliced": (
                None if reward["ablated"] is None else reward["ablated"] - reward["spliced"]
            ),
            "effect_random_minus_spliced": (
                None if reward["random"] is None else reward["random"] - reward["spliced"]
            ),
            "ablated_features": {str(k): v for k, v in relevant.items()},
            "random_features": {str(k): v for k, v in control.items()},
            "n_ablated": int(sum(len(v) for v in relevant.values())),
            "sampling": params["ablation"],
        },
    )
