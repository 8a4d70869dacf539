"""Reward-model baseline: TRL RewardTrainer on a tiny GPT-NeoX, and its row in the AUC table."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from lfp_tiny import tiny_model_and_tokenizer

from prefscope.analyze.reward_model import RewardModelSettings, encode, training_pairs
from prefscope.analyze.stage import analyze, reward_model
from prefscope.errors import InputError

GOOD = ["the movie was great fun", "i loved the music", "a superb cast"]
BAD = ["what a terrible waste of time", "the plot was awful and slow", "the ending felt ordinary"]
RM = {
    "model": "unused: the rule's input wins",
    "device": "cpu",
    "max_steps": 30,
    "batch_size": 8,
    "gradient_accumulation_steps": 1,
    "learning_rate": 0.003,
    "max_length": 64,
    "gradient_checkpointing": False,
    "warmup_ratio": 0.0,
}


def _pairs(n: int = 200, seed: int = 0) -> pl.DataFrame:
    """The good review wins; which side it is on is random; one in ten rows is a tie."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a_good = bool(rng.random() < 0.5)
        g, b = GOOD[rng.integers(3)], BAD[rng.integers(3)]
        rows.append(
            {
                "pair_id": i,
                "prompt": "review:",
                "response_A": g if a_good else b,
                "response_B": b if a_good else g,
                "label": None if i % 10 == 3 else int(a_good),
                "length_delta": float(len(g.split()) - len(b.split())) * (1 if a_good else -1),
                "split": "train" if i < 150 else "val",
                "dedup": i != 7,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"label": pl.Int8})


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny")
    model, tok = tiny_model_and_tokenizer()
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_training_pairs_orient_by_label_and_use_train_dedup_labeled_rows():
    pairs = _pairs()
    train = training_pairs(pairs)
    expected = pairs.filter(
        (pl.col("split") == "train") & pl.col("dedup") & pl.col("label").is_not_null()
    )
    assert train.height == expected.height == 134
    assert all(c in GOOD for c in train["chosen"]) and all(r in BAD for r in train["rejected"])


def test_encode_keeps_the_end_of_long_inputs():
    _, tok = tiny_model_and_tokenizer()
    ids = encode(tok, "review: " * 40, "i loved the music", max_length=12)
    assert len(ids) == 12 and ids[-1] == tok.eos_token_id
    assert tok.decode(ids[:-1]).endswith("i loved the music")


def test_settings_reject_unknown_keys():
    with pytest.raises(InputError, match="unknown reward_model"):
        RewardModelSettings.from_params({"model": "x", "epochs": 3})


@pytest.fixture(scope="module")
def trained(tiny_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rm")
    _pairs().write_parquet(tmp / "pairs.parquet")
    outputs = {"scores": tmp / "rm" / "scores.parquet", "metrics": tmp / "rm" / "metrics.json"}
    reward_model(
        {"pairs": tmp / "pairs.parquet", "model": tiny_dir}, outputs, {"reward_model": RM}, 1
    )
    return tmp, outputs


def test_reward_model_learns_the_preference_and_scores_every_labeled_pair(trained):
    _, outputs = trained
    metrics = json.loads(outputs["metrics"].read_text())
    assert metrics["trainer"] == "RewardTrainer" and metrics["device"] == "cpu"
    assert metrics["n_train_pairs"] == 134 and metrics["trainer_arguments"]["max_steps"] == 30
    assert metrics["val_auc"] > 0.9 and metrics["train_auc"] > 0.9
    scores = pl.read_parquet(outputs["scores"])
    assert scores.height == 180  # labeled rows, ties excluded
    np.testing.assert_allclose(scores["margin"], scores["reward_A"] - scores["reward_B"])


def test_analysis_puts_the_reward_model_in_the_auc_table(trained):
    tmp, outputs = trained
    rng = np.random.default_rng(0)
    np.save(tmp / "codes.npy", rng.normal(size=(200, 4)).astype(np.float32))
    np.save(tmp / "deltas.npy", rng.normal(size=(200, 6)).astype(np.float32))
    inputs = {
        "pairs": tmp / "pairs.parquet",
        "codes": tmp / "codes.npy",
        "deltas": tmp / "deltas.npy",
        "reward_scores": outputs["scores"],
    }
    out = {"features": tmp / "a" / "features.parquet", "summary": tmp / "a" / "summary.json"}
    params = {"controls": [], "lasso_top_k": [1], "n_bootstrap": 100, "fdr_q": 0.05, "seed": 0}
    analyze(inputs, out, params, threads=1)
    summary = json.loads(out["summary"].read_text())
    rm = summary["auc"]["reward_model"]
    rm_metrics = json.loads(outputs["metrics"].read_text())
    assert rm["val_auc"] == pytest.approx(rm_metrics["val_auc"])
    assert rm["ci_low"] <= rm["val_auc"] <= rm["ci_high"]
    assert rm["n_val"] == summary["auc"]["sae_all"]["n_val"] == 45
    share = summary["reward_model_share"]
    auc = summary["auc"]
    assert share["sae_all"] == pytest.approx(
        (auc["sae_all"]["val_auc"] - 0.5) / (rm["val_auc"] - 0.5)
    )
