"""Reward-function RL (the paper's PPO step) through TRL's GRPO or RLOO trainer.

TRL removed ``PPOTrainer`` in 1.13, and the last PPO it had needed a reward *model* and a
value model, not a Python function. ``GRPOTrainer``/``RLOOTrainer`` take ``reward_funcs``
callables, so the VADER reward plugs in directly. Both are on-policy policy-gradient methods
with a clipped ratio and a KL penalty to the frozen base model, like PPO, but their advantage
is the reward relative to the other completions of the same prompt (group mean, or
leave-one-out) instead of a learned value head with GAE. :func:`paper_ppo_mapping` records
exactly which of the paper's PPO settings carry over.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("prefscope.lfp.finetune.rl")


@dataclass(frozen=True)
class RLConfig:
    """GRPO/RLOO settings (``runs.<run>.rl``); defaults map the paper's PPO run.

    ``generation_batch_size`` completions are sampled per rollout (paper: batch 64) and
    consumed ``batch_size`` at a time (paper: minibatch 16), each rollout ``num_iterations``
    times (paper: 4 PPO epochs); ``max_steps`` counts optimizer steps, so the paper's one
    epoch of 390 rollouts is 390 x 4 x 4 = 6240.
    """

    learning_rate: float = 1e-6
    max_steps: int = 6240
    generation_batch_size: int = 64
    batch_size: int = 16
    num_generations: int = 8
    num_iterations: int = 4
    beta: float = 0.5
    epsilon: float = 0.2
    max_grad_norm: float = 1.0
    warmup_steps: int = 10
    weight_decay: float = 0.0
    max_completion_length: int = 20
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    loss_type: str = "grpo"
    scale_rewards: str = "group"
    logging_steps: int = 10


def paper_ppo_mapping(cfg: RLConfig, algorithm: str) -> dict[str, Any]:
    """The paper's PPO settings (TRL 0.7.7), what they became here, and what differs."""
    return {
        "paper_algorithm": "PPO (TRL 0.7.7 legacy step API, value head, adaptive KL)",
        "algorithm": algorithm,
        "applied": {
            "batch_size_64": {
                "paper": 64,
                "here": cfg.generation_batch_size,
                "as": "generation_batch_size (completions per rollout)",
            },
            "mini_batch_size_16": {
                "paper": 16,
                "here": cfg.batch_size,
                "as": "per_device_train_batch_size",
            },
            "ppo_epochs_4": {"paper": 4, "here": cfg.num_iterations, "as": "num_iterations"},
            "max_grad_norm_1": {"paper": 1.0, "here": cfg.max_grad_norm, "as": "max_grad_norm"},
            "learning_rate_1e-6": {
                "paper": 1e-6,
                "here": cfg.learning_rate,
                "as": "learning_rate (AdamW, linear decay)",
            },
            "warmup_10": {"paper": 10, "here": cfg.warmup_steps, "as": "warmup_steps"},
            "cliprange_0.2": {"paper": 0.2, "here": cfg.epsilon, "as": "epsilon"},
            "init_kl_coef_0.5": {
                "paper": 0.5,
                "here": cfg.beta,
                "as": "beta (fixed KL coefficient)",
            },
            "sampling": {
                "paper": "top_k 0, top_p 1.0, do_sample",
                "here": f"top_k {cfg.top_k}, top_p {cfg.top_p}, temperature {cfg.temperature}",
            },
        },
        "differs": [
            "no value head: the advantage is the reward relative to the other "
            f"{cfg.num_generations} completions of the same prefix ("
            + ("group mean/std" if algorithm == "grpo" else "leave-one-out mean")
            + "), not GAE (gamma 1, lambda 0.95, vf_coef 0.1 have no counterpart)",
            "KL: a fixed coefficient on a KL term of the loss, not the adaptive controller "
            "(init 0.5, target 6, horizon 10000) on a per-token KL reward penalty",
            "each prefix is completed num_generations times, so a rollout of "
            f"{cfg.generation_batch_size} completions has "
            f"{cfg.generation_batch_size // max(1, cfg.num_generations)} distinct prefixes "
            "(PPO: 64)",
            f"completion length: at most {cfg.max_completion_length} tokens, stopping at EOS "
            "(paper: a length drawn from 8-19 tokens)",
            "prefixes: seeded corpus prefixes of 2-9 words (paper: unseeded IMDB prefixes of "
            "2-9 tokens) — for hub models pass your own prefixes table",
            "reward: the completion only (the paper's HEAD scored the response; an older "
            "pipeline scored query + response)",
        ],
    }


def trainer_classes(algorithm: str) -> tuple[Any, Any]:
    """(Config class, Trainer class) for ``grpo`` or ``rloo``."""
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    classes = {"grpo": (GRPOConfig, GRPOTrainer), "rloo": (RLOOConfig, RLOOTrainer)}
    if algorithm not in classes:
        raise ValueError(f"unknown RL algorithm {algorithm!r} (grpo | rloo)")
    return classes[algorithm]


def trainer_arguments(
    cfg: RLConfig, algorithm: str, output_dir: str, seed: int, cuda: bool
) -> tuple[dict[str, Any], list[str]]:
    """Keyword arguments for the TRL config, and the settings that class does not have."""
    config_cls, _ = trainer_classes(algorithm)
    wanted: dict[str, Any] = {
        "output_dir": output_dir,
        "learning_rate": cfg.learning_rate,
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "generation_batch_size": cfg.generation_batch_size,
        "num_generations": cfg.num_generations,
        "num_iterations": cfg.num_iterations,
        "beta": cfg.beta,
        "epsilon": cfg.epsilon,
        "max_grad_norm": cfg.max_grad_norm,
        "warmup_steps": cfg.warmup_steps,
        "weight_decay": cfg.weight_decay,
        "max_completion_length": cfg.max_completion_length,
        "temperature": cfg.temperature,
        "top_k": cfg.top_k,
        "top_p": cfg.top_p,
        "loss_type": cfg.loss_type,
        "scale_rewards": cfg.scale_rewards,
        "logging_steps": cfg.logging_steps,
        "seed": seed,
        "data_seed": seed,
        "bf16": cuda,  # mixed precision on GPU only; master weights stay fp32
        "use_cpu": not cuda,
        "gradient_checkpointing": False,
        "optim": "adamw_torch",
        "report_to": "none",
        "save_strategy": "no",
        "disable_tqdm": False,
    }
    fields = {f.name for f in dataclasses.fields(config_cls)}
    kwargs = {k: v for k, v in wanted.items() if k in fields}
    return kwargs, sorted(set(wanted) - fields)


def train_rl(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    reward: Callable[..., list[float]],
    cfg: RLConfig,
    algorithm: str,
    output_dir: str,
    seed: int,
) -> dict[str, Any]:
    """Fine-tune ``model`` in place; returns the settings passed and the training log."""
    import torch
    from datasets import Dataset

    cuda = torch.cuda.is_available()
    config_cls, trainer_cls = trainer_classes(algorithm)
    kwargs, unsupported = trainer_arguments(cfg, algorithm, output_dir, seed, cuda)
    if cfg.max_steps == 0:
        # the control run: policy = base, so every policy - base difference must vanish
        # (TRL reads max_steps <= 0 as "train by epochs", hence no trainer at all)
        log.info("max_steps 0: control run, the policy is the base model unchanged")
        return {
            "trainer": None,
            "trainer_arguments": {k: v for k, v in kwargs.items() if k != "output_dir"},
            "not_in_trainer_config": unsupported,
            "train_runtime_s": 0.0,
            "log_history": [],
        }
    if unsupported:
        log.info("%s has no %s; left at TRL's behaviour", config_cls.__name__, unsupported)
    tokenizer.padding_side = "left"
    trainer = trainer_cls(
        model=model,
        reward_funcs=[reward],
        args=config_cls(**kwargs),
        train_dataset=Dataset.from_dict({"prompt": list(prompts)}),
        processing_class=tokenizer,
    )
    result = trainer.train()
    return {
        "trainer": trainer_cls.__name__,
        "trainer_arguments": {k: v for k, v in kwargs.items() if k != "output_dir"},
        "not_in_trainer_config": unsupported,
        "train_runtime_s": float(result.metrics.get("train_runtime", float("nan"))),
        "log_history": trainer.state.log_history,
    }
