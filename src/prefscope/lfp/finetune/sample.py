"""Seeded sampling of completions, and their mean reward (before vs after RLHF).

Base and policy are compared on the *same* prefixes, batches, sampling settings and seeds:
the generator is re-seeded per batch (``seed + batch index``), so a batch's draws never depend
on what earlier batches consumed. Completions are decoded from the generated tokens only, so
the prefix never leaks into the scored text (the reference sliced "the last gen_len tokens",
which includes prefix tokens whenever generation stops early at EOS).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SampleConfig:
    """How completions are drawn (``runs.<run>.eval``); paper: top_k 0, top_p 1, sampling."""

    n_completions: int = 256
    max_new_tokens: int = 16
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    batch_size: int = 64
    seed: int = 0


def pick_prefixes(prefixes: Sequence[str], n: int) -> list[str]:
    """``n`` prefixes, cycling through the list when it is shorter (order kept)."""
    if not prefixes:
        raise ValueError("no prefixes to sample from")
    return [prefixes[i % len(prefixes)] for i in range(n)]


def sample_completions(
    model: Any, tokenizer: Any, prefixes: Sequence[str], cfg: SampleConfig
) -> list[str]:
    """One sampled completion per prefix (text after the prefix, special tokens dropped)."""
    import torch

    device = next(model.parameters()).device
    tokenizer.padding_side = "left"
    out: list[str] = []
    model.eval()
    for b, start in enumerate(range(0, len(prefixes), cfg.batch_size)):
        batch = list(prefixes[start : start + cfg.batch_size])
        enc = tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(device) for k, v in enc.items()}
        torch.manual_seed(cfg.seed + b)
        with torch.inference_mode():
            gen = model.generate(
                **enc,
                do_sample=True,
                temperature=cfg.temperature,
                top_k=cfg.top_k,
                top_p=cfg.top_p,
                max_new_tokens=cfg.max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        new = gen[:, enc["input_ids"].shape[1] :]
        out += tokenizer.batch_decode(new, skip_special_tokens=True)
    return out


def mean_reward(
    model: Any,
    tokenizer: Any,
    prefixes: Sequence[str],
    cfg: SampleConfig,
    reward: Callable[[list[str]], list[float]],
) -> dict[str, Any]:
    """Sample ``n_completions`` completions and summarise ``reward`` over them."""
    chosen = pick_prefixes(prefixes, cfg.n_completions)
    completions = sample_completions(model, tokenizer, chosen, cfg)
    scores = np.asarray(reward(completions), dtype=float)
    return {
        "mean_reward": float(scores.mean()),
        "std_reward": float(scores.std(ddof=1)) if len(scores) > 1 else 0.0,
        "n": len(scores),
        "examples": [
            {"prefix": p, "completion": c, "reward": float(r)}
            for p, c, r in zip(chosen[:8], completions[:8], scores[:8], strict=True)
        ],
        "sampling": asdict(cfg),
    }
