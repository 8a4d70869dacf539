"""DPO with TRL's ``DPOTrainer`` on a normalised preference table, and its before/after check.

TRL 1.x moved every loss/data knob into ``DPOConfig`` and dropped ``max_prompt_length``; the
paper's prompt cap (128 tokens) is applied here in preprocessing, keeping the *end* of the
prompt (the latest turns). The reference model is TRL's frozen fp32 copy of the base
(``ref_model=None``) — the paper's was an 8-bit copy, so its policy and reference differed
before the first step.

Before/after: on held-out pairs, the share where the model gives the chosen response a higher
summed log-probability than the rejected one, for the base and for the policy (and the DPO
implicit-reward accuracy, which is the policy-minus-base margin).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger("prefscope.lfp.finetune.dpo")


@dataclass(frozen=True)
class DPOSettings:
    """``runs.<run>.dpo``; defaults are the paper's HH-RLHF run (toxic: lr 5e-5, 250 steps)."""

    learning_rate: float = 3e-5
    max_steps: int = 5000
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    warmup_steps: int = 150
    beta: float = 0.1
    max_length: int = 256
    max_prompt_length: int = 128
    loss_type: str = "sigmoid"
    precompute_ref_log_probs: bool = False
    max_grad_norm: float = 1.0
    weight_decay: float = 0.0
    eval_fraction: float = 0.1
    max_eval_pairs: int = 500
    logging_steps: int = 10


def paper_dpo_mapping(cfg: DPOSettings) -> dict[str, Any]:
    """The paper's DPO settings (TRL 0.7.7) and what differs in TRL 1.x here."""
    return {
        "paper": {
            "beta": 0.1,
            "max_length": 256,
            "max_prompt_length": 128,
            "hh": {"learning_rate": 3e-5, "batch_size": 8, "max_steps": 5000, "warmup_steps": 150},
            "toxic": {"learning_rate": 5e-5, "batch_size": 8, "max_steps": 250, "warmup_steps": 30},
        },
        "here": dataclasses.asdict(cfg),
        "differs": [
            "reference model: frozen fp32 copy of the base (paper: 8-bit quantised copy)",
            "max_prompt_length: applied by truncating prompt tokens (keep the end) before "
            "training; TRL 1.x has no such option",
            "bf16 autocast only on GPU (paper: bf16 weights); weights are saved in fp32",
            "held-out pairs are disjoint from training pairs (paper's toxic eval set was "
            "drawn from its train split)",
        ],
    }


def truncate_prompts(tokenizer: Any, prompts: Sequence[str], max_tokens: int) -> list[str]:
    """Keep the last ``max_tokens`` tokens of each prompt (decode of a token slice)."""
    out = []
    for p in prompts:
        ids = tokenizer(p, add_special_tokens=False)["input_ids"]
        out.append(p if len(ids) <= max_tokens else tokenizer.decode(ids[-max_tokens:]))
    return out


def completion_logprobs(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    max_length: int,
    batch_size: int = 16,
) -> np.ndarray:
    """Summed log p(completion | prompt) per pair (right padding, pads excluded)."""
    import torch

    device = next(model.parameters()).device
    scores: list[float] = []
    model.eval()
    for s in range(0, len(prompts), batch_size):
        rows = []
        for p, c in zip(prompts[s : s + batch_size], completions[s : s + batch_size], strict=True):
            pi = tokenizer(p, add_special_tokens=False)["input_ids"]
            ci = tokenizer(c, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            ids = (pi + ci)[:max_length]
            rows.append((ids, min(len(pi), len(ids))))
        width = max(len(ids) for ids, _ in rows)
        input_ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
        target = torch.zeros((len(rows), width), dtype=torch.bool)
        attn = torch.zeros((len(rows), width), dtype=torch.long)
        for i, (ids, n_prompt) in enumerate(rows):
            input_ids[i, : len(ids)] = torch.tensor(ids)
            attn[i, : len(ids)] = 1
            target[i, n_prompt : len(ids)] = True
        with torch.inference_mode():
            logits = model(input_ids=input_ids.to(device), attention_mask=attn.to(device)).logits
        logp = torch.log_softmax(logits[:, :-1].float(), -1)
        tok_lp = logp.gather(-1, input_ids[:, 1:, None].to(device))[..., 0]
        mask = target[:, 1:].to(device)
        scores += (tok_lp * mask).sum(1).cpu().tolist()
    return np.asarray(scores, dtype=float)


def pair_margins(model: Any, tokenizer: Any, pairs: Any, max_length: int) -> np.ndarray:
    """log p(chosen) − log p(rejected) per pair."""
    prompts = pairs["prompt"].to_list()
    chosen = completion_logprobs(model, tokenizer, prompts, pairs["chosen"].to_list(), max_length)
    rejected = completion_logprobs(
        model, tokenizer, prompts, pairs["rejected"].to_list(), max_length
    )
    return chosen - rejected


def train_dpo(
    model: Any, tokenizer: Any, train: Any, cfg: DPOSettings, output_dir: str, seed: int
) -> dict[str, Any]:
    """Fine-tune ``model`` in place with DPO; returns the arguments passed and the log."""
    import torch
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    cuda = torch.cuda.is_available()
    kwargs: dict[str, Any] = {
        "output_dir": output_dir,
        "learning_rate": cfg.learning_rate,
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "warmup_steps": cfg.warmup_steps,
        "beta": cfg.beta,
        "max_length": cfg.max_length,
        "truncation_mode": "keep_start",
        "loss_type": [cfg.loss_type],
        "precompute_ref_log_probs": cfg.precompute_ref_log_probs,
        "max_grad_norm": cfg.max_grad_norm,
        "weight_decay": cfg.weight_decay,
        "logging_steps": cfg.logging_steps,
        "seed": seed,
        "data_seed": seed,
        "bf16": cuda,
        "use_cpu": not cuda,
        "gradient_checkpointing": False,
        "optim": "adamw_torch",
        "report_to": "none",
        "save_strategy": "no",
    }
    tokenizer.padding_side = "right"
    dataset = Dataset.from_dict(
        {
            "prompt": truncate_prompts(tokenizer, train["prompt"].to_list(), cfg.max_prompt_length),
            "chosen": train["chosen"].to_list(),
            "rejected": train["rejected"].to_list(),
        }
    )
    trainer = DPOTrainer(
        model=model,
        ref_model=None,
        args=DPOConfig(**kwargs),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    result = trainer.train()
    tokenizer.padding_side = "left"
    return {
        "trainer": "DPOTrainer",
        "trainer_arguments": {k: v for k, v in kwargs.items() if k != "output_dir"},
        "train_runtime_s": float(result.metrics.get("train_runtime", float("nan"))),
        "log_history": trainer.state.log_history,
    }
