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
* ``random_00`` … ``random_<R-1>``: spliced, as many random non-relevant *live* features
  zeroed per layer, each of nearest firing-rate rank to a relevant one, in R independent
  draws (control; ``mean_reward.random`` is their mean).

The effect of the ablation is ``ablated − spliced``; the R draws give the distribution of
``random − spliced`` that any features of that count and firing profile would cause, and the
empirical p says where the relevant ablation falls in it. One draw is not evidence. Rewards
use the training reward function on the completions (``prefscope.rlhf.reward.vader_reward``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

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
def splice_saes(model: Any, saes: dict[int, Any], zero: dict[int, Sequence[int]]) -> Iterator[None]:
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
    relevant: dict[int, Sequence[int]], rates: dict[int, np.ndarray], pool: int, seed: int
) -> dict[int, list[int]]:
    """One control draw: per layer, as many live non-relevant features as ``relevant`` has,
    each of nearest firing-rate rank to a relevant one (``controls.matched_features``)."""
    from prefscope.lfp_probe.controls import matched_features

    rng = np.random.default_rng(seed)
    return {
        layer: matched_features(rates[layer], feats, rng, pool) for layer, feats in relevant.items()
    }


def firing_rates(harvest: str, saes: dict[int, Any], layers: Sequence[int]) -> dict[int, Any]:
    """Per layer, each small-SAE feature's firing rate over the harvested tokens."""
    from prefscope.harvest import load_layer
    from prefscope.sae import encode

    return {
        int(layer): np.mean(encode(saes[int(layer)], load_layer(harvest, layer)) > 0, axis=0)
        for layer in layers
    }


def control_summary(
    rewards: dict[str, list[float]], draws: list[str], n_boot: int, seed: int
) -> dict[str, Any]:
    """Where the relevant-feature ablation falls among the matched random draws.

    Every arm sampled the same prefixes with the same seeds, so completion ``i`` of one arm
    pairs with completion ``i`` of another: differences get paired bootstrap CIs.
    """
    from prefscope.lfp_probe import controls

    spliced = np.asarray(rewards["spliced"])
    ablated = np.asarray(rewards["ablated"])
    per_draw = [float(np.mean(rewards[d])) for d in draws]
    random_mean = np.mean([rewards[d] for d in draws], axis=0)
    observed = float(ablated.mean())
    return {
        "n_draws": len(draws),
        "mean_reward_per_draw": per_draw,
        "random_reward": controls.distribution(per_draw),
        "random_minus_spliced": controls.distribution(
            [r - float(spliced.mean()) for r in per_draw]
        ),
        # one-sided: ablating reward-relevant features should *lower* the reward
        "empirical_p": controls.empirical_p(observed, per_draw, "less"),
        "empirical_p_two_sided": controls.empirical_p(observed, per_draw, "two-sided"),
        "paired_ci": {
            "ablated_minus_spliced": controls.paired_mean_difference(
                ablated, spliced, n_boot, seed
            ),
            "random_minus_spliced": controls.paired_mean_difference(
                random_mean, spliced, n_boot, seed
            ),
            "ablated_minus_random": controls.paired_mean_difference(
                ablated, random_mean, n_boot, seed
            ),
        },
    }


def stage(inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int):
    """Policy + small SAEs + explanations -> ablation.json, completions.parquet."""
    import polars as pl

    from prefscope.harvest import chosen_layers, load_policy
    from prefscope.io import read_json, write_json, write_parquet
    from prefscope.lfp_probe.deltas import load_layer_saes
    from prefscope.rlhf.reward import vader_reward
    from prefscope.rlhf.sample import SampleConfig, pick_prefixes, sample_completions

    settings = dict(params["ablation"])
    n_draws, pool, n_boot = (settings.pop(k) for k in ("n_random_draws", "match_pool", "n_boot"))
    cfg = SampleConfig(**settings)
    layers = chosen_layers(inputs["divergence"])
    saes = load_layer_saes(inputs["sae"], layers)
    model, tokenizer = load_policy(inputs["policy"])
    table = pl.read_parquet(inputs["prefixes"])
    prefixes = pick_prefixes(
        table.filter(pl.col("split") == "eval")["prefix"].to_list(), cfg.n_completions
    )

    relevant: dict[int, list[int]] = {}
    for feat in read_json(inputs["explanations"])["features"]:
        if feat["relevant"]:
            relevant.setdefault(int(feat["layer"]), []).append(int(feat["small"]))
    rates = firing_rates(inputs["harvest"], saes, sorted(relevant))
    draws = {
        f"random_{r:02d}": random_control(relevant, rates, pool, cfg.seed + 1000 * (r + 1))
        for r in range(n_draws if relevant else 0)
    }
    conditions: dict[str, dict[int, list[int]] | None] = {"original": None}
    if relevant:
        conditions.update(spliced={layer: [] for layer in relevant}, ablated=relevant, **draws)
    rows: dict[str, list[Any]] = {"condition": [], "prefix": [], "completion": [], "reward": []}
    reward: dict[str, float | None] = {
        k: None for k in ("original", "spliced", "ablated", "random")
    }
    scores_by: dict[str, list[float]] = {}
    for name, zero in tqdm(conditions.items(), desc="ablation arms", unit="arm"):
        with contextlib.ExitStack() as stack:
            if zero is not None:
                stack.enter_context(splice_saes(model, saes, zero))
            completions = sample_completions(model, tokenizer, prefixes, cfg)
        scores = [float(r) for r in vader_reward(completions)]
        scores_by[name] = scores
        if not name.startswith("random_"):
            reward[name] = float(np.mean(scores))
        rows["condition"] += [name] * len(completions)
        rows["prefix"] += prefixes
        rows["completion"] += completions
        rows["reward"] += scores
        log.info("%s: mean reward %.3f", name, float(np.mean(scores)))
    control = None
    if draws:
        control = control_summary(scores_by, list(draws), n_boot, cfg.seed)
        reward["random"] = control["random_reward"]["mean"]
        control["firing_rate"] = {
            "ablated": float(np.mean([rates[la][f] for la, fs in relevant.items() for f in fs])),
            "random": float(
                np.mean([rates[la][f] for d in draws.values() for la, fs in d.items() for f in fs])
            ),
        }
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
            "random_features": [{str(k): v for k, v in d.items()} for d in draws.values()],
            # relevant ablation vs R firing-rate-matched random draws of live features
            "controls": {"matched_random": control},
            "n_ablated": int(sum(len(v) for v in relevant.values())),
            "sampling": params["ablation"],
        },
    )
