"""The ablation's control: as many live, firing-rate-matched, non-relevant features, R times.

A relevant-feature ablation that lowers the reward says little alone: splicing in any
features of that count and firing profile may lower it too. Each draw takes, per layer, the
live non-relevant feature of nearest firing-rate rank to each relevant one; the summary puts
the relevant ablation among the draws with paired bootstrap CIs and an empirical p.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def random_control(
    relevant: dict[int, Sequence[int]], rates: dict[int, np.ndarray], pool: int, seed: int
) -> dict[int, list[int]]:
    """One control draw: per layer, as many live non-relevant features as ``relevant`` has,
    each of nearest firing-rate rank to a relevant one (``controls.matched_features``)."""
    from prefscope.lfp.controls import matched_features

    rng = np.random.default_rng(seed)
    return {
        layer: matched_features(rates[layer], feats, rng, pool) for layer, feats in relevant.items()
    }


def firing_rates(harvest: str, saes: dict[int, Any], layers: Sequence[int]) -> dict[int, Any]:
    """Per layer, each small-SAE feature's firing rate over the harvested tokens."""
    from prefscope.lfp.harvest.activations import load_layer
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
    from prefscope.lfp import controls

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
