"""End to end: two planted demo datasets that disagree on one concept, compared on one axis,
plus the reward-model baseline (tiny GPT-NeoX on the CPU) in one dataset's AUC table.

The datasets share every planted weight except ``bold`` (+0.8 in demo_a, -0.8 in demo_b; bold
adds no words, so flipping it leaves the demo's length confounds balanced). The comparison must
flag exactly the feature that carries bold, mapped to concepts as the per-dataset planted
recovery does. One run serves every test here; it is small (800 pairs each, branch W for one
dataset, the comparison, a 40-step tiny base and an 8-step reward model).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from smkapi import copy_workflow, parse_dryrun, plan, run_snakemake, write_config

pytestmark = pytest.mark.e2e

DATASETS = {
    "demo_a": {"source": "demo", "demo": {"n_pairs": 800, "seed": 7}},
    "demo_b": {
        "source": "demo",
        "demo": {"n_pairs": 800, "seed": 8, "truth": {"weights": {"bold": -0.8}}},
    },
}
REWARD_MODEL = {
    "model": "tiny-neox",
    "device": "cpu",
    "max_steps": 8,
    "batch_size": 8,
    "gradient_accumulation_steps": 1,
    "learning_rate": 0.001,
    "max_length": 64,
    "gradient_checkpointing": False,
    "warmup_ratio": 0.0,
}
TARGETS = ("results/compare/summary.json", "results/demo_a/summary.json")


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wd = copy_workflow(tmp_path_factory.mktemp("compare"))
    config = write_config(
        wd,
        {
            "analyze": {"reward_model": REWARD_MODEL},
            # demo_a's own SAE only feeds the AUC table; the pooled SAE keeps the demo's
            "sae": {"max_epochs": 15, "min_epochs": 5},
            "compare": {"sae": {"max_epochs": 200, "min_epochs": 10}},
            "lfp": {
                "corpus": {"n_sentences": 600, "n_prefixes": 100, "n_eval_prefixes": 20},
                "tiny_neox": {"n_layers": 4, "hidden_size": 32, "pretrain_steps": 40},
            },
        },
    )
    config["datasets"] = DATASETS  # replace the default demo, not merge with it
    (wd / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_snakemake(wd, "--cores", "2", *TARGETS)
    if result.returncode != 0:
        logs = "\n".join(
            f"--- {p}\n{p.read_text()[-1500:]}" for p in sorted((wd / "logs").rglob("*.log"))
        )
        pytest.fail(f"comparison run failed:\n{result.stderr[-3000:]}\n{logs[-8000:]}")
    return wd


@pytest.fixture(scope="module")
def summary(compare_run: Path) -> dict:
    return json.loads((compare_run / "results/compare/summary.json").read_text())


def test_compare_writes_every_output_with_a_feature_by_dataset_table(compare_run, summary):
    out = compare_run / "results/compare"
    for name in ("summary.json", "summary.md", "effects.parquet", "effects.svg"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "effects.svg").read_text().lstrip().startswith("<?xml")
    effects = pl.read_parquet(out / "effects.parquet")
    assert summary["datasets"] == ["demo_a", "demo_b"]
    assert effects.height == summary["n_features"] * 2 == 64
    assert sorted(effects["dataset"].unique()) == ["demo_a", "demo_b"]
    ok = effects.filter(pl.col("coef").is_not_null())
    assert ok.height >= 50
    assert (ok["ci_low"] <= ok["coef"]).all() and (ok["coef"] <= ok["ci_high"]).all()
    assert (effects["prevalence_ci_low"] <= effects["prevalence"]).all()
    assert "label" in effects.columns and "description" in effects.columns
    md = (out / "summary.md").read_text()
    assert "sign differs" in md and "z-test" in md and "Planted concepts" in md


def test_pooled_sae_is_balanced_over_datasets(summary):
    pool = summary["pool"]
    assert pool["balance"] == "subsample"
    used = {d: pool["datasets"][d]["n_train_used"] for d in summary["datasets"]}
    avail = {d: pool["datasets"][d]["n_train_available"] for d in summary["datasets"]}
    assert len(set(used.values())) == 1 and used["demo_a"] == min(avail.values()) > 500
    for d in summary["datasets"]:
        assert 0 < summary["sae"]["per_dataset_val"][d]["fvu"] < 1


def test_the_comparison_finds_exactly_the_planted_sign_flip(summary):
    planted = {r["concept"]: r for r in summary["planted"]}
    bold = planted["bold"]
    assert bold["true_weights"] == {"demo_a": 0.8, "demo_b": -0.8}
    assert abs(bold["correlation"]) >= 0.6
    assert bold["flip_planted"] == bold["flip_found"] == [["demo_a", "demo_b"]]
    assert bold["label_effects"]["demo_a"] > 0 > bold["label_effects"]["demo_b"]
    for concept, r in planted.items():
        assert r["correct"], r
        if concept != "bold":
            assert r["flip_found"] == [], r
    flipped = {f["feature"] for f in summary["sign_flips"]}
    assert flipped == {bold["best_feature"]}
    (flip,) = summary["sign_flips"]
    assert flip["q"] < 0.05 and (
        flip["ci_high_a"] < 0 < flip["ci_low_b"] or flip["ci_high_b"] < 0 < flip["ci_low_a"]
    )


def test_reward_model_baseline_appears_in_the_auc_table(compare_run):
    ds = compare_run / "results/demo_a"
    summary = json.loads((ds / "summary.json").read_text())
    rm = summary["auc"]["reward_model"]
    assert rm["ci_low"] <= rm["val_auc"] <= rm["ci_high"]
    assert rm["n_val"] == summary["auc"]["sae_all"]["n_val"] > 100
    assert set(summary["reward_model_share"]) >= {"controls", "sae_all"}
    metrics = json.loads((ds / "reward_model/metrics.json").read_text())
    assert metrics["device"] == "cpu" and metrics["trainer"] == "RewardTrainer"
    assert metrics["n_train_pairs"] > 400 and metrics["trainer_arguments"]["max_steps"] == 8
    scores = pl.read_parquet(ds / "reward_model/scores.parquet")
    assert scores.height == summary["data"]["n_label_A"] + summary["data"]["n_label_B"]
    assert "| reward_model |" in (ds / "summary.md").read_text()
    assert (ds / "auc.svg").stat().st_size > 0


def test_no_comparison_with_one_dataset_and_reward_model_is_a_gpu_rule(workflow_copy):
    planned = plan(workflow_copy)
    assert planned and not [p for p in planned if p.startswith("results/compare/")]
    write_config(workflow_copy, {"analyze": {"reward_model": {"model": "tiny-neox"}}})
    dry = run_snakemake(workflow_copy, "-n", "results/demo/analysis/summary.json", timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    jobs = {j.rule: j for j in parse_dryrun(dry.stdout)}
    assert jobs["reward_model"].gpus == 1 and jobs["analyze"].gpus == 0
