"""Reward-model baseline: how much of a black-box reward model's accuracy do the features reach?

WIMHF compares its SAE features with a reward model fine-tuned on the same preferences (HH-RLHF:
RM AUC 0.789). Here a sequence-classification head (one scalar) on ``model`` is fine-tuned with
TRL's ``RewardTrainer`` (Bradley–Terry loss ``-log σ(r_chosen − r_rejected)``) on the
deduplicated, labeled **train-split** pairs of one dataset; every labeled pair is then scored,
and the analysis reports the AUC of ``r(A) − r(B)`` on the **val-split** labeled rows with the
same paired bootstrap as the other predictors.

Texts: with a chat template, ``[user: prompt, assistant: response]``; otherwise
``prompt + "\\n\\n" + response + EOS``. Sequences longer than ``max_length`` keep their *end*
(the response and the EOS whose hidden state the head reads); TRL would drop them instead.
Tokenisation happens here, once, and the trainer receives ``chosen_ids``/``rejected_ids``.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from prefscope.errors import InputError

log = logging.getLogger("prefscope.analyze.reward_model")


@dataclass(frozen=True)
class RewardModelSettings:
    """``analyze.reward_model`` (defaults: WIMHF's LoRA reward model, minus LoRA and flash-attn)."""

    model: str
    revision: str | None = None
    learning_rate: float = 5e-5
    num_train_epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 4
    gradient_accumulation_steps: int = 4
    warmup_ratio: float = 0.03
    lr_scheduler_type: str = "cosine"
    weight_decay: float = 0.0
    max_length: int = 1024
    gradient_checkpointing: bool = True
    lora: dict | None = None
    score_batch_size: int = 16
    device: str | None = None
    seed: int = 0

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RewardModelSettings:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - names)
        if unknown:
            raise InputError(f"unknown reward_model setting(s) {unknown}", column="reward_model")
        return cls(**params)


def training_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """Deduplicated train-split pairs with label 0/1 as (prompt, chosen, rejected)."""
    label = pl.col("label").cast(pl.Int8, strict=False)
    rows = pairs.filter((pl.col("split") == "train") & pl.col("dedup") & label.is_in([0, 1]))
    a_won = label == 1
    return rows.select(
        "prompt",
        pl.when(a_won).then(pl.col("response_A")).otherwise(pl.col("response_B")).alias("chosen"),
        pl.when(a_won).then(pl.col("response_B")).otherwise(pl.col("response_A")).alias("rejected"),
    )


def encode(tokenizer: Any, prompt: str, response: str, max_length: int) -> list[int]:
    """Token ids of one (prompt, response) as the reward model reads it (see module doc)."""
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}],
            tokenize=True,
            return_dict=False,
        )
        ids = list(ids["input_ids"] if isinstance(ids, dict) else ids)
    else:
        text = f"{prompt}\n\n{response}" if prompt else response
        ids = [*tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    return ids[-max_length:]


def load_reward_model(path: str, revision: str | None, device: str) -> tuple[Any, Any]:
    """(sequence-classification model with one output in fp32, tokenizer with a pad token)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, revision=revision)
    if tokenizer.pad_token is None:  # Pythia, Llama: no pad token
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    model = AutoModelForSequenceClassification.from_pretrained(
        path, revision=revision, num_labels=1, dtype=torch.float32
    )
    model.config.pad_token_id = tokenizer.pad_token_id
    return model.to(device), tokenizer


def _lora_config(lora: dict | None) -> Any:
    if not lora:
        return None
    try:
        from peft import LoraConfig
    except ImportError as err:  # pragma: no cover - optional extra
        raise InputError(
            "reward_model.lora needs the peft package (pip install 'prefscope[lora]')",
            column="reward_model.lora",
        ) from err
    return LoraConfig(
        task_type="SEQ_CLS",
        r=int(lora.get("r", 16)),
        lora_alpha=float(lora.get("alpha", 32)),
        lora_dropout=float(lora.get("dropout", 0.1)),
        target_modules=lora.get("target_modules"),
    )


def train_reward_model(
    model: Any, tokenizer: Any, train: pl.DataFrame, cfg: RewardModelSettings, device: str
) -> tuple[Any, dict[str, Any]]:
    """Fine-tune with ``RewardTrainer``; returns the trained model and what was run."""
    import torch
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    cuda = device.startswith("cuda")
    kwargs: dict[str, Any] = {
        "learning_rate": cfg.learning_rate,
        "num_train_epochs": cfg.num_train_epochs,
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "warmup_steps": cfg.warmup_ratio,  # a float in [0, 1) is a ratio in transformers 5
        "lr_scheduler_type": cfg.lr_scheduler_type,
        "weight_decay": cfg.weight_decay,
        "max_length": cfg.max_length,
        "gradient_checkpointing": cfg.gradient_checkpointing,
        "bf16": cuda and torch.cuda.is_bf16_supported(),
        "use_cpu": not cuda,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "dataloader_num_workers": 0,
        "report_to": "none",
        "save_strategy": "no",
        "logging_steps": 10,
        "disable_tqdm": False,
    }
    ids = {
        "chosen_ids": [
            encode(tokenizer, p, c, cfg.max_length)
            for p, c in zip(train["prompt"], train["chosen"], strict=True)
        ],
        "rejected_ids": [
            encode(tokenizer, p, r, cfg.max_length)
            for p, r in zip(train["prompt"], train["rejected"], strict=True)
        ],
    }
    with tempfile.TemporaryDirectory(prefix="reward-model-") as out_dir:
        trainer = RewardTrainer(
            model=model,
            args=RewardConfig(output_dir=out_dir, **kwargs),
            train_dataset=Dataset.from_dict(ids),
            processing_class=tokenizer,
            peft_config=_lora_config(cfg.lora),
        )
        result = trainer.train()
    return trainer.model, {
        "trainer": "RewardTrainer",
        "trainer_arguments": kwargs,
        "train_runtime_s": float(result.metrics.get("train_runtime", float("nan"))),
        "train_loss": float(result.metrics.get("train_loss", float("nan"))),
        "log_history": trainer.state.log_history,
    }


def score(
    model: Any, tokenizer: Any, sequences: Sequence[list[int]], batch_size: int, desc: str
) -> np.ndarray:
    """The scalar reward of every token sequence (batched by length, right padding)."""
    import torch

    device = next(model.parameters()).device
    model.eval()
    out = np.empty(len(sequences), dtype=np.float64)
    order = np.argsort([len(s) for s in sequences], kind="stable")
    pad = tokenizer.pad_token_id
    for start in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch"):
        idx = order[start : start + batch_size]
        width = max(len(sequences[i]) for i in idx)
        input_ids = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            input_ids[row, : len(sequences[i])] = torch.tensor(sequences[i])
            mask[row, : len(sequences[i])] = 1
        with torch.inference_mode():
            logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
        out[idx] = logits[:, 0].float().cpu().numpy()
    return out


def score_pairs(
    model: Any, tokenizer: Any, pairs: pl.DataFrame, cfg: RewardModelSettings
) -> pl.DataFrame:
    """Rewards of both responses of every labeled pair and their margin r(A) - r(B)."""
    label = pairs.get_column("label").cast(pl.Int8, strict=False)
    labeled = label.is_in([0, 1]).fill_null(False).to_numpy()
    rows = pairs.filter(pl.Series(labeled))
    rewards = {}
    for side in ("A", "B"):
        seqs = [
            encode(tokenizer, p, r, cfg.max_length)
            for p, r in zip(rows["prompt"], rows[f"response_{side}"], strict=True)
        ]
        rewards[side] = score(model, tokenizer, seqs, cfg.score_batch_size, f"score {side}")
    return rows.select("pair_id", "split", "label").with_columns(
        pl.Series("reward_A", rewards["A"]),
        pl.Series("reward_B", rewards["B"]),
        pl.Series("margin", rewards["A"] - rewards["B"]),
    )
