"""GRPO and DPO run a few steps through the workflow stages on a tiny model (seconds)."""

import polars as pl
import pytest

from prefscope.io import read_json
from prefscope.lfp.finetune import stage as stages
from prefscope.lfp.finetune.sample import SampleConfig, sample_completions
from prefscope.lfp.layers.stage import lfp_divergence
from prefscope.lfp.models import load_model

CORPUS = {
    "n_sentences": 300,
    "n_positive_words": 5,
    "n_negative_words": 5,
    "n_neutral_words": 3,
    "n_prefixes": 64,
    "n_eval_prefixes": 16,
    "seed": 1,
}
TINY = {
    "n_layers": 4,
    "hidden_size": 32,
    "vocab_size": 600,
    "pretrain_steps": 150,
    "lr": 0.01,
    "batch_size": 16,
    "warmup_steps": 5,
}
RL = {
    "learning_rate": 1e-3,
    "max_steps": 3,
    "generation_batch_size": 8,
    "batch_size": 8,
    "num_generations": 4,
    "num_iterations": 1,
    "beta": 0.5,
    "warmup_steps": 0,
    "max_completion_length": 8,
    "logging_steps": 1,
}
EVAL = {"n_completions": 8, "max_new_tokens": 8, "batch_size": 8, "seed": 0}


def run_params(
    run: str,
    task: str,
    algorithm: str,
    *,
    base_model: str = "tiny-neox",
    rl=None,
    dpo=None,
    eval=None,
) -> dict:
    """The ``lfp_rlhf`` rule's params for a test run (settings of the other algorithm: None)."""
    return {
        "run": run,
        "task": task,
        "algorithm": algorithm,
        "seed": 0,
        "base_model": base_model,
        "rl": rl,
        "dpo": dpo,
        "eval": eval,
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("lfp")
    corpus = {"sentences": root / "sentences.parquet", "prefixes": root / "prefixes.parquet"}
    stages.lfp_corpus({}, corpus, {"corpus": CORPUS}, 1)
    stages.lfp_base(
        {"sentences": corpus["sentences"]},
        {"base": root / "base"},
        {"base_model": "tiny-neox", "tiny_neox": TINY},
        1,
    )
    return root, corpus


def test_base_is_saved_with_build_log(base):
    root, _ = base
    info = read_json(root / "base" / stages.BASE_INFO)
    assert info["kind"] == "tiny" and info["pretrain"]["steps"] == 150
    assert info["pretrain"]["loss_last20"] < info["pretrain"]["loss_first20"]
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
        p.name for p in (root / "base").iterdir()
    }


def test_sampling_is_seeded(base):
    root, _ = base
    model, tok = load_model(str(root / "base"), device="cpu")
    cfg = SampleConfig(n_completions=4, max_new_tokens=6, batch_size=2, seed=5)
    prefixes = ["the movie", "i would call", "the plot", "the cast"]
    first = sample_completions(model, tok, prefixes, cfg)
    assert first == sample_completions(model, tok, prefixes, cfg)
    assert first[2:] == sample_completions(
        model, tok, prefixes[2:], cfg.__class__(**{**cfg.__dict__, "seed": 6})
    )  # batch b is seeded with seed + b


def test_grpo_stage_then_divergence(base):
    root, corpus = base
    out = {"policy": root / "grpo" / "policy", "rlhf": root / "grpo" / "rlhf.json"}
    params = run_params("t", "vader", "grpo", rl=RL, eval=EVAL)
    stages.lfp_rlhf({"base": root / "base", "prefixes": corpus["prefixes"]}, out, params, 1)
    rec = read_json(out["rlhf"])
    assert rec["trainer"] == "GRPOTrainer" and rec["algorithm"] == "grpo"
    assert rec["trainer_arguments"]["beta"] == 0.5 and rec["trainer_arguments"]["max_steps"] == 3
    assert [h["step"] for h in rec["log_history"] if "reward" in h] == [1, 2, 3]
    assert rec["evaluation"]["n"] == 8 and len(rec["evaluation"]["before"]["examples"]) == 8
    assert rec["paper_mapping"]["applied"]["init_kl_coef_0.5"]["here"] == 0.5
    div = {"divergence": root / "grpo" / "div.json", "plot": root / "grpo" / "div.png"}
    lfp_divergence(
        {"base": root / "base", "policy": out["policy"]},
        div,
        {"n_layers_keep": 5, "rank_by": "all_l2"},
        1,
    )
    d = read_json(div["divergence"])
    assert d["n_layers"] == 4 and sorted(d["chosen_layers"]) == [0, 1, 2, 3]  # 5 clipped to 4
    assert all(r["all_l2"] > 0 and r["mlp_l2"] > 0 for r in d["layers"])
    assert div["plot"].stat().st_size > 0


def test_zero_steps_is_a_control_run_policy_equals_base(base):
    root, corpus = base
    out = {"policy": root / "zero" / "policy", "rlhf": root / "zero" / "rlhf.json"}
    params = run_params("z", "vader", "grpo", rl={**RL, "max_steps": 0}, eval=EVAL)
    stages.lfp_rlhf({"base": root / "base", "prefixes": corpus["prefixes"]}, out, params, 1)
    rec = read_json(out["rlhf"])
    assert rec["trainer"] is None and rec["log_history"] == []
    assert rec["evaluation"]["delta"] == 0.0  # same model, same seeds
    div = {"divergence": root / "zero" / "div.json", "plot": root / "zero" / "div.png"}
    lfp_divergence(
        {"base": root / "base", "policy": out["policy"]},
        div,
        {"n_layers_keep": 2, "rank_by": "all_l2"},
        1,
    )
    assert all(r["all_l2"] == 0 for r in read_json(div["divergence"])["layers"])


def test_rl_needs_the_vader_task(base):
    root, corpus = base
    params = run_params("t", "hh", "rloo", base_model="x", rl=RL, eval=EVAL)
    with pytest.raises(ValueError, match="reward function"):
        stages.lfp_rlhf(
            {"base": root / "base", "prefixes": corpus["prefixes"]},
            {"policy": root / "x", "rlhf": root / "x.json"},
            params,
            1,
        )
    assert not (root / "x").exists() and not (root / "x.json").exists()


def test_dpo_stage_on_branch_w_pairs(base):
    root, _ = base
    pairs = pl.DataFrame(
        {
            "prompt": ["rate the movie", "rate the plot"] * 8,
            "response_A": ["the movie was fine.", "the plot was dull."] * 8,
            "response_B": ["the movie was awful.", "the plot was great fun."] * 8,
            "label": [1, 0] * 8,
            "split": ["train"] * 12 + ["val"] * 4,
        },
        schema_overrides={"label": pl.Int8},
    )
    pairs.write_parquet(root / "pairs.parquet")
    dpo = {
        "learning_rate": 1e-3,
        "max_steps": 2,
        "batch_size": 4,
        "warmup_steps": 0,
        "beta": 0.1,
        "max_length": 64,
        "max_prompt_length": 16,
        "loss_type": "sigmoid",
        "precompute_ref_log_probs": False,
        "max_grad_norm": 1.0,
        "weight_decay": 0.0,
        "eval_fraction": 0.1,
        "max_eval_pairs": 10,
        "logging_steps": 1,
        "gradient_accumulation_steps": 1,
    }
    prefs = {"preferences": root / "prefs.parquet", "info": root / "prefs.json"}
    stages.lfp_preferences(
        {"table": root / "pairs.parquet"},
        prefs,
        {"source": "demo", "format": "auto", "seed": 0, "split": dpo},
        1,
    )
    assert read_json(prefs["info"])["n_eval"] == 4
    out = {"policy": root / "dpo" / "policy", "rlhf": root / "dpo" / "rlhf.json"}
    params = run_params("d", "hh", "dpo", dpo=dpo)
    stages.lfp_rlhf({"base": root / "base", "preferences": prefs["preferences"]}, out, params, 1)
    rec = read_json(out["rlhf"])
    assert rec["trainer"] == "DPOTrainer" and rec["n_train_pairs"] == 12
    assert rec["evaluation"]["n"] == 4
    assert 0.0 <= rec["evaluation"]["implicit_reward_accuracy"] <= 1.0
    assert [h["step"] for h in rec["log_history"] if "loss" in h] == [1, 2]
