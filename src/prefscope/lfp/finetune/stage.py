"""Stages of the ``lfp_finetune`` rules: demo corpus, base model, preference table, fine-tune.

Each stage takes plain dicts (``inputs``, ``outputs``, ``params``) and writes its outputs
atomically: files through :mod:`prefscope.io`, model directories into a temporary sibling
that is renamed into place only when complete.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefscope.errors import InputError
from prefscope.io import atomic_dir, write_json, write_parquet

log = logging.getLogger(__name__)

BASE_INFO = "prefscope_base.json"
SUMMARY_KEYS = (
    "loss",
    "reward",
    "reward_std",
    "kl",
    "completions/mean_length",
    "entropy",
    "rewards/accuracies",
    "rewards/margins",
    "grad_norm",
    "learning_rate",
)


def library_versions() -> dict[str, str]:
    import torch
    import transformers
    import trl

    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "trl": trl.__version__,
    }


# --------------------------------------------------------------------------- corpus


def lfp_corpus(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Demo corpus -> ``sentences.parquet`` and ``prefixes.parquet``."""
    from prefscope.lfp.finetune.corpus import CorpusConfig, generate_prefixes, generate_sentences

    cfg = CorpusConfig(**params["corpus"])
    sentences = generate_sentences(cfg)
    prefixes = generate_prefixes(sentences, cfg)
    write_parquet(outputs["sentences"], sentences)
    write_parquet(outputs["prefixes"], prefixes)
    log.info("%d sentences, %d prefixes", sentences.height, prefixes.height)


# --------------------------------------------------------------------------- base model


def build_tiny_base(sentences_path: str, cfg_dict: dict[str, Any], out: Path) -> dict[str, Any]:
    """Train the tokenizer, build and pre-train tiny-neox, save it into ``out``."""
    import polars as pl
    import torch

    from prefscope.lfp.finetune.sample import SampleConfig, sample_completions
    from prefscope.lfp.finetune.tiny_neox import TinyNeoXConfig, build_model, n_parameters, pretrain
    from prefscope.lfp.finetune.tokenizer import train_tokenizer
    from prefscope.lfp.models import save_model

    cfg = TinyNeoXConfig(**cfg_dict)
    texts = pl.read_parquet(sentences_path)["text"].to_list()
    start = time.perf_counter()
    tokenizer = train_tokenizer(texts, cfg.vocab_size)
    model = build_model(cfg, tokenizer)
    if torch.cuda.is_available():
        model.to("cuda")
    train_log = pretrain(model, tokenizer, texts, cfg)
    samples = sample_completions(
        model,
        tokenizer,
        ["the movie", "i would call", "the audience found the"],
        SampleConfig(n_completions=3, max_new_tokens=16, batch_size=3, seed=cfg.seed),
    )
    save_model(model.cpu(), tokenizer, out)
    return {
        "kind": "tiny",
        "spec": "tiny-neox",
        "config": asdict(cfg),
        "n_parameters": n_parameters(model),
        "vocab_size": len(tokenizer),
        "tokenizer_training_texts": "the demo review corpus (sentences.parquet) only",
        "pretrain": train_log,
        "samples": samples,
        "seconds": round(time.perf_counter() - start, 2),
    }


def lfp_base(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """``results/lfp/base/``: tiny-neox built here, or a hub id / local path saved in fp32."""
    from prefscope.lfp.finetune.tiny_neox import n_parameters
    from prefscope.lfp.models import base_kind, load_model, save_model

    spec = params["base_model"]
    kind = base_kind(spec)
    with atomic_dir(outputs["base"]) as tmp:
        if kind == "tiny":
            if "sentences" not in inputs:
                raise InputError("tiny-neox needs the corpus sentences as input")
            info = build_tiny_base(inputs["sentences"], params["tiny_neox"], tmp)
        else:
            model, tokenizer = load_model(spec, device="cpu")
            save_model(model, tokenizer, tmp)
            info = {
                "kind": kind,
                "spec": spec,
                "n_parameters": n_parameters(model),
                "dtype": "float32",
                "revision": getattr(model.config, "_commit_hash", None),
            }
        info["libraries"] = library_versions()
        write_json(tmp / BASE_INFO, info)
    log.info("base model (%s) saved to %s", kind, outputs["base"])


# --------------------------------------------------------------------------- preferences


def lfp_preferences(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """A run's preference source -> ``preferences.parquet`` (+ provenance json)."""
    from prefscope.lfp.finetune.preferences import load_preferences

    split = params["split"]  # only the split settings: a new learning rate keeps the table
    source = inputs.get("table", params["source"])
    table, info = load_preferences(
        str(source),
        params["format"],
        split["eval_fraction"],
        split["max_eval_pairs"],
        params["seed"],
    )
    write_parquet(outputs["preferences"], table)
    write_json(outputs["info"], info)


# --------------------------------------------------------------------------- RLHF


def summarise_log(history: list[dict[str, Any]]) -> dict[str, Any]:
    """First and last logged value of each training metric, and the step count."""
    rows = [h for h in history if any(k in h for k in SUMMARY_KEYS)]
    summary: dict[str, Any] = {"n_logged": len(rows)}
    for key in SUMMARY_KEYS:
        values = [(h.get("step"), h[key]) for h in rows if key in h]
        if values:
            summary[key] = {
                "first": values[0][1],
                "last": values[-1][1],
                "first_step": values[0][0],
                "last_step": values[-1][0],
            }
    return summary


def _rl(
    inputs: dict[str, Any], params: dict[str, Any], model: Any, tokenizer: Any, workdir: str
) -> dict[str, Any]:
    import polars as pl

    from prefscope.lfp.finetune.rl import RLConfig, paper_ppo_mapping, train_rl
    from prefscope.lfp.finetune.sample import SampleConfig, mean_reward
    from prefscope.lfp.reward import vader_reward, vader_reward_func

    if params["task"] != "vader":
        raise InputError(
            f"algorithm {params['algorithm']} needs a reward function; only the "
            f"vader task has one (task is {params['task']!r})"
        )
    prefixes = pl.read_parquet(inputs["prefixes"])
    train = prefixes.filter(pl.col("split") == "train")["prefix"].to_list()
    evals = prefixes.filter(pl.col("split") == "eval")["prefix"].to_list()
    cfg = RLConfig(**params["rl"])
    sample_cfg = SampleConfig(**params["eval"])
    before = mean_reward(model, tokenizer, evals, sample_cfg, vader_reward)
    log.info("mean VADER reward before: %.4f (n=%d)", before["mean_reward"], before["n"])
    trained = train_rl(
        model,
        tokenizer,
        train,
        vader_reward_func,
        cfg,
        params["algorithm"],
        workdir,
        params["seed"],
    )
    after = mean_reward(model, tokenizer, evals, sample_cfg, vader_reward)
    log.info("mean VADER reward after: %.4f (n=%d)", after["mean_reward"], after["n"])
    return {
        "settings": asdict(cfg),
        "paper_mapping": paper_ppo_mapping(cfg, params["algorithm"]),
        "reward_function": "prefscope.lfp.reward.vader_reward (lexicon valence sum / 5, "
        "clipped to [-10, 10], completion only)",
        "n_train_prefixes": len(train),
        "evaluation": {
            "metric": "mean VADER reward of sampled completions of held-out eval prefixes",
            "before": before,
            "after": after,
            "delta": after["mean_reward"] - before["mean_reward"],
            "n": after["n"],
            "seed": sample_cfg.seed,
        },
        **trained,
    }


def _dpo(
    inputs: dict[str, Any], params: dict[str, Any], model: Any, tokenizer: Any, workdir: str
) -> dict[str, Any]:
    import numpy as np
    import polars as pl

    from prefscope.lfp.finetune.dpo import (
        DPOSettings,
        pair_margins,
        paper_dpo_mapping,
        train_dpo,
        truncate_prompts,
    )

    cfg = DPOSettings(**params["dpo"])
    table = pl.read_parquet(inputs["preferences"])
    train = table.filter(pl.col("split") == "train")
    evals = table.filter(pl.col("split") == "eval")
    if train.height == 0:
        raise InputError("no training pairs", file=str(inputs["preferences"]))
    evals = evals.with_columns(
        pl.Series(
            "prompt", truncate_prompts(tokenizer, evals["prompt"].to_list(), cfg.max_prompt_length)
        )
    )
    before = pair_margins(model, tokenizer, evals, cfg.max_length) if evals.height else None
    trained = train_dpo(model, tokenizer, train, cfg, workdir, params["seed"])
    after = pair_margins(model, tokenizer, evals, cfg.max_length) if evals.height else None
    evaluation: dict[str, Any] = {"n": evals.height}
    if before is not None and after is not None:
        evaluation.update(
            metric="held-out pairs: share with log p(chosen) > log p(rejected)",
            before={
                "pair_accuracy": float(np.mean(before > 0)),
                "mean_margin": float(np.mean(before)),
            },
            after={
                "pair_accuracy": float(np.mean(after > 0)),
                "mean_margin": float(np.mean(after)),
            },
            implicit_reward_accuracy=float(np.mean(after - before > 0)),
        )
    return {
        "settings": asdict(cfg),
        "paper_mapping": paper_dpo_mapping(cfg),
        "n_train_pairs": train.height,
        "evaluation": evaluation,
        **trained,
    }


def lfp_rlhf(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Base model -> RLHF policy (``policy/``) and ``rlhf.json``."""
    from prefscope.lfp.models import load_model, save_model

    algorithm = params["algorithm"]
    model, tokenizer = load_model(inputs["base"])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="prefscope-trl-") as workdir:
        if algorithm in {"grpo", "rloo"}:
            result = _rl(inputs, params, model, tokenizer, workdir)
        elif algorithm == "dpo":
            result = _dpo(inputs, params, model, tokenizer, workdir)
        else:
            raise InputError(f"unknown algorithm {algorithm!r} (grpo | rloo | dpo)")
    seconds = time.perf_counter() - start
    with atomic_dir(outputs["policy"]) as tmp:
        save_model(model.cpu(), tokenizer, tmp)
    history = result.pop("log_history")
    record = {
        "run": params["run"],
        "task": params["task"],
        "algorithm": algorithm,
        "base_model": params["base_model"],
        "seed": params["seed"],
        **result,
        "training_log_summary": summarise_log(history),
        "log_history": history,
        "seconds": round(seconds, 2),
        "device": "cuda" if next(model.parameters()).is_cuda else "cpu",
        "threads": threads,
        "libraries": library_versions(),
    }
    write_json(outputs["rlhf"], record)


# --------------------------------------------------------------------------- divergence
