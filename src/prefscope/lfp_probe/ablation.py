"""Zero-ablate relevant features through SAEs spliced into the fine-tuned model (Table 6).

A forward hook on a chosen layer's MLP replaces its output by the small SAE's
reconstruction computed from the SAE *code* with the selected features set to zero — the
features are zeroed before decoding (the reference zeroed coordinates of the reconstruction,
loaded a randomly initialised model of the wrong class and ablated an empty list).

Splicing an SAE changes the model even with nothing zeroed (reconstruction error), so four
conditions are sampled with identical prefixes, batches, sampling settings and seed:

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
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger("prefscope.lfp_probe.ablation")


@dataclass(frozen=True)
class SamplingConfig:
    n_completions: int = 200
    max_new_tokens: int = 20
    prefix_words: int = 3
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    batch_size: int = 50
    seed: int = 0


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


def prefixes_from_texts(texts: Sequence[str], cfg: SamplingConfig) -> list[str]:
    """``n_completions`` seeded prefixes: the first ``prefix_words`` words of corpus texts."""
    rng = np.random.default_rng(cfg.seed)
    picks = rng.choice(len(texts), size=cfg.n_completions, replace=len(texts) < cfg.n_completions)
    return [" ".join(texts[int(i)].split()[: cfg.prefix_words]) for i in picks]


def sample(model: Any, tokenizer: Any, prefixes: Sequence[str], cfg: SamplingConfig) -> list[str]:
    """One sampled completion per prefix (new tokens only), seeded and batched identically."""
    import torch

    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    torch.manual_seed(cfg.seed)
    out: list[str] = []
    model.eval()
    with torch.inference_mode():
        for s in range(0, len(prefixes), cfg.batch_size):
            enc = tokenizer(list(prefixes[s : s + cfg.batch_size]), return_tensors="pt",
                            padding=True).to(device)
            gen = model.generate(
                **enc,
                do_sample=True,
                temperature=cfg.temperature,
                top_k=cfg.top_k,
                top_p=cfg.top_p,
                max_new_tokens=cfg.max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
            )
            new = gen[:, enc["input_ids"].shape[1] :]
            out += tokenizer.batch_decode(new, skip_special_tokens=True)
    return out


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

    cfg = SamplingConfig(**params["ablation"])
    layers = chosen_layers(inputs["divergence"])
    saes = load_layer_saes(inputs["sae"], layers)
    model, tokenizer = load_policy(inputs["policy"])
    prefixes = prefixes_from_texts(pl.read_parquet(inputs["texts"])["text"].to_list(), cfg)

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
            completions = sample(model, tokenizer, prefixes, cfg)
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
