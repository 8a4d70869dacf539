"""Stage of the ``lfp_ablation`` rule: zero the relevant features, and matched random ones."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl

from prefscope.io import read_json, write_json, write_parquet
from prefscope.lfp.ablation.matched import control_summary, firing_rates, random_control
from prefscope.lfp.ablation.splice import sample_arms
from prefscope.lfp.finetune.sample import SampleConfig, pick_prefixes
from prefscope.lfp.layers.divergence import chosen_layers
from prefscope.lfp.models import load_model
from prefscope.lfp.saes.layer_saes import load_layer_saes

log = logging.getLogger(__name__)


def lfp_ablate(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Policy + small SAEs + explanations -> ablation.json, completions.parquet."""
    settings = dict(params["ablation"])
    n_draws, pool, n_boot = (settings.pop(k) for k in ("n_random_draws", "match_pool", "n_boot"))
    cfg = SampleConfig(**settings)
    layers = chosen_layers(inputs["divergence"])
    saes = load_layer_saes(inputs["sae"], layers)
    model, tokenizer = load_model(inputs["policy"])
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
    rows, scores_by = sample_arms(model, tokenizer, prefixes, saes, conditions, cfg)
    reward: dict[str, float | None] = dict.fromkeys(("original", "spliced", "ablated", "random"))
    reward.update(
        {k: float(np.mean(v)) for k, v in scores_by.items() if not k.startswith("random_")}
    )
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
