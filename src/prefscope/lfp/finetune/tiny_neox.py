"""``tiny-neox``: a small GPT-NeoX (Pythia architecture) built from a config and pre-trained.

Pythia-70m is a GPT-NeoX with 6 layers, parallel residual, rotary embeddings on 25% of each
head and GELU MLPs of width 4 x d_model; the tiny model keeps all of that and shrinks d_model.
A randomly initialised model learns nothing from RL (the reward never varies), so the base is
first pre-trained on the review corpus with a plain causal-LM loop until it writes
review-like sentences: "<subject> <verb> <review word> <rating>/10 <tail>." with a spread of
review words, which is exactly the choice RL can then shift toward positive words. The
rating, which follows the review word and depends on its valence, is what makes the model
represent a word's sentiment at the word (see :mod:`prefscope.lfp.finetune.corpus`).

Each training sequence is one sentence followed by ``<|endoftext|>`` (no BOS, as TRL feeds
prompts without one), padded on the right; pad positions are excluded from the loss.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger("prefscope.lfp.finetune.tiny_neox")


@dataclass(frozen=True)
class TinyNeoXConfig:
    """Shape and pre-training settings of the demo base model (``lfp.tiny_neox``)."""

    n_layers: int = 6
    hidden_size: int = 64
    n_heads: int = 4
    intermediate_multiple: int = 4
    max_position_embeddings: int = 128
    vocab_size: int = 1024
    pretrain_steps: int = 600
    batch_size: int = 32
    lr: float = 0.003
    warmup_steps: int = 30
    weight_decay: float = 0.01
    max_length: int = 32
    seed: int = 0


def build_model(cfg: TinyNeoXConfig, tokenizer: Any) -> Any:
    """A randomly initialised ``GPTNeoXForCausalLM`` (seeded) sized for ``tokenizer``."""
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    config = GPTNeoXConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.n_layers,
        num_attention_heads=cfg.n_heads,
        intermediate_size=cfg.intermediate_multiple * cfg.hidden_size,
        max_position_embeddings=cfg.max_position_embeddings,
        rotary_pct=0.25,
        use_parallel_residual=True,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(cfg.seed)
    return GPTNeoXForCausalLM(config)


def encode_sentences(tokenizer: Any, texts: Sequence[str], max_length: int) -> Any:
    """Right-padded ``input_ids``/``attention_mask`` of ``text + <|endoftext|>``."""
    import torch

    eos = tokenizer.eos_token_id
    ids = [
        [*tokenizer(t, add_special_tokens=False)["input_ids"][: max_length - 1], eos] for t in texts
    ]
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    return input_ids, mask


def pretrain(
    model: Any, tokenizer: Any, texts: Sequence[str], cfg: TinyNeoXConfig, progress: bool = True
) -> dict[str, Any]:
    """Causal-LM pre-training with AdamW, linear warm-up and cosine decay; returns a log.

    Batches are seeded draws from ``texts``; the returned log has the loss of the first and
    last 20 steps and the wall time.
    """
    import torch
    from tqdm.auto import tqdm

    input_ids, mask = encode_sentences(tokenizer, texts, cfg.max_length)
    labels = input_ids.masked_fill(mask == 0, -100)
    rng = np.random.default_rng(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        frac = (step - cfg.warmup_steps) / max(1, cfg.pretrain_steps - cfg.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    bar = tqdm(range(cfg.pretrain_steps), desc="pre-train", disable=not progress)
    for _ in bar:
        idx = torch.from_numpy(rng.integers(0, len(texts), size=cfg.batch_size))
        width = int(mask[idx].sum(1).max())
        out = model(
            input_ids=input_ids[idx, :width],
            attention_mask=mask[idx, :width],
            labels=labels[idx, :width],
        )
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(out.loss.detach()))
        bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
    model.eval()
    seconds = time.perf_counter() - start
    log.info(
        "pre-trained %d steps in %.1f s, loss %.3f -> %.3f",
        cfg.pretrain_steps,
        seconds,
        float(np.mean(losses[:20])),
        float(np.mean(losses[-20:])),
    )
    return {
        "steps": cfg.pretrain_steps,
        "loss_first20": float(np.mean(losses[:20])),
        "loss_last20": float(np.mean(losses[-20:])),
        "seconds": round(seconds, 2),
        "n_texts": len(texts),
    }


def n_parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))
