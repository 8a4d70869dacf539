"""End to end: branch L's default demo, every finding beside the control that could refute it.

The VADER run fine-tunes tiny-neox with GRPO on the lexicon reward (reward about 0.0 -> 0.3);
the probe on the fine-tuned model's SAE codes ranks held-out words by valence (pooled tau about
0.59) — but measured: the base model gives the same tau (difference CI contains 0), the
sign-only baseline scores 0.72, within-sign tau is not significant, the relevant ablation is
within the matched-random distribution and Table 7's relevant features do not beat matched
ones. Tests therefore assert what RL demonstrably changes (reward, weights) and that every
control is computed and stated consistently; a 0-step RL run (policy = base) must show
differences that are exactly 0 and an ablation indistinguishable from random.
"""

from __future__ import annotations

import json
import shutil

import pytest
from smkapi import copy_workflow, run_snakemake, write_config

pytestmark = pytest.mark.e2e

# The 0-step control: the same pipeline with an RL run of 0 steps (policy = base model), on
# the demo's corpus and base model (copied, so they are not rebuilt) and at small sizes.
CONTROL = "control0"
CONTROL_CONFIG = {
    "lfp": {
        "runs": {
            CONTROL: {
                "task": "vader",
                "algorithm": "grpo",
                "rl": {"max_steps": 0},
                "eval": {"n_completions": 64, "max_new_tokens": 12},
            }
        },
        "harvest": {"max_texts": 400},
        "sae": {"max_epochs": 1},
        "triples": {"max_triples": 400},
        "validation": {"max_texts": 300},
        "ablation": {"n_completions": 64, "max_new_tokens": 12, "n_random_draws": 20},
    }
}


@pytest.fixture(scope="module")
def vader(demo_run):
    return json.loads((demo_run / "results/lfp/vader/summary.json").read_text())


@pytest.fixture(scope="module")
def control(demo_run, tmp_path_factory):
    """summary.json of the 0-step control run (policy = base), built beside a demo copy."""
    wd = copy_workflow(tmp_path_factory.mktemp("control0"))
    for part in ("corpus", "base"):  # copy2 keeps mtimes: the demo's base is up to date
        shutil.copytree(demo_run / "results/lfp" / part, wd / "results/lfp" / part)
    write_config(wd, CONTROL_CONFIG)
    target = f"results/lfp/{CONTROL}/summary.json"
    result = run_snakemake(wd, "--cores", "2", target)
    if result.returncode != 0:
        logs = "\n".join(
            f"--- {p}\n{p.read_text()[-1500:]}" for p in sorted((wd / "logs").rglob("*.log"))
        )
        pytest.fail(f"0-step control failed:\n{result.stderr[-3000:]}\n{logs[-6000:]}")
    assert not (wd / "logs/lfp/base.log").exists(), "the control rebuilt the base model"
    return json.loads((wd / target).read_text())


def _contains_zero(d: dict) -> bool:
    lo, hi = d["ci95"]
    return lo <= 0 <= hi


def test_zero_step_control_changes_nothing(control):
    ev = control["rlhf"]["evaluation"]
    assert control["rlhf"]["trainer"] is None and ev["delta"] == 0.0, ev
    base = control["base_model"]
    diffs = [base["kendall"], *base["within_sign_kendall"].values()]
    for d in diffs:
        assert d["n_words"] >= 5 and _contains_zero(d), d
        assert abs(d["difference"]) < 1e-9, d  # same model, same SAEs: identical codes
    assert "already in the base model" in base["statement"]
    assert "attributable to the fine-tune" not in base["statement"]


def test_zero_step_control_ablation_is_indistinguishable_from_random(control):
    m = control["ablation"]["controls"]["matched_random"]
    assert m["n_draws"] == 20 and len(m["mean_reward_per_draw"]) == 20
    assert m["empirical_p_two_sided"] > 0.05, m
    assert _contains_zero(m["paired_ci"]["ablated_minus_random"]), m["paired_ci"]


def test_rl_raises_the_mean_vader_reward(vader):
    ev = vader["rlhf"]["evaluation"]
    before, after = ev["before"], ev["after"]
    stderr = (
        before["std_reward"] ** 2 / before["n"] + after["std_reward"] ** 2 / after["n"]
    ) ** 0.5
    assert after["mean_reward"] > before["mean_reward"] + 3 * stderr, ev


def test_probe_recovers_word_valence_on_held_out_words(vader):
    tau, base = vader["kendall"], vader["baseline_kendall"]
    assert tau["n_words"] >= 20, tau
    assert tau["tau"] is not None and tau["tau"] > 0, tau
    assert tau["p"] < 0.05, tau
    assert base["tau"] is None or tau["tau"] > base["tau"], (tau, base)
    signs = vader["sign_accuracy"]
    assert signs["n_positive"] >= 5 and signs["n_negative"] >= 5, signs
    assert signs["positive"] > 0.6 and signs["negative"] > 0.6, signs


def test_summary_markdown_reports_the_probe(demo_run, vader):
    text = (demo_run / "results/lfp/vader/summary.md").read_text()
    assert "Kendall tau" in text and f"{vader['kendall']['tau']:.3f}" in text
    w = vader["within_sign_kendall"]
    headline = next(line for line in text.splitlines() if line.startswith("**Within-sign"))
    assert f"{w['positive']['tau']:.3f}" in headline and f"{w['negative']['tau']:.3f}" in headline
    assert f"sign-only baseline {vader['sign_only_baseline_kendall']['tau']:.3f}" in text
    assert "## Base-model control" in text and vader["base_model"]["statement"] in text
    assert "draws of firing-rate-matched random live features" in text
    assert "permutation p" in text


def test_within_sign_tau_and_sign_only_baseline(vader):
    w, so = vader["within_sign_kendall"], vader["sign_only_baseline_kendall"]
    signs = vader["sign_accuracy"]
    assert w["positive"]["n_words"] == signs["n_positive"] >= 5
    assert w["negative"]["n_words"] == signs["n_negative"] >= 5
    assert all(w[k]["p"] is not None for k in w)
    # the sign alone already earns a large pooled tau on these words
    assert so["n_words"] == vader["kendall"]["n_words"] and so["tau"] > 0.5


def test_base_model_control_is_paired_and_stated_by_its_ci(demo_run, vader):
    base = vader["base_model"]
    for d in (base["kendall"], *base["within_sign_kendall"].values()):
        lo, hi = d["ci95"]
        assert lo <= d["difference"] <= hi and d["n_boot"] == 1000, d
        assert d["difference"] == pytest.approx(d["tau_policy"] - d["tau_base"])
    assert base["kendall"]["tau_policy"] == pytest.approx(vader["kendall"]["tau"])
    lo, hi = base["kendall"]["ci95"]
    if lo > 0:
        expected = "Pooled tau is attributable to the fine-tune"
    elif hi < 0:
        expected = "Pooled tau is weaker after the fine-tune"
    else:
        expected = "Pooled tau did not change with the fine-tune"
    assert base["statement"].startswith(expected), base["statement"]
    # paired: the base model's inputs are the same triples as the policy's
    meta = json.loads((demo_run / "results/lfp/vader/probe/inputs.json").read_text())
    base_meta = json.loads(
        (demo_run / "results/lfp/vader/probe/base_model/inputs.json").read_text()
    )
    assert (
        base_meta["n_triples_used"] == meta["n_triples_used"]
        and base_meta["layers"] == (meta["layers"])
    )


def test_what_rl_demonstrably_changes(vader, control):
    """RL moved the weights of the chosen layers and raised the reward; 0 steps moved nothing."""
    chosen = {r["layer"]: r for r in vader["divergence"]["layers"]}
    rank_by = vader["divergence"]["rank_by"]
    assert all(chosen[layer][rank_by] > 0 for layer in vader["chosen_layers"])
    assert all(r[rank_by] == 0 for r in control["divergence"]["layers"])


def test_ablation_is_compared_with_matched_random_draws(vader):
    ab = vader["ablation"]
    m = ab["controls"]["matched_random"]
    assert m["n_draws"] >= 20 and len(m["mean_reward_per_draw"]) == m["n_draws"]
    r = m["random_reward"]
    assert r["q2.5"] <= r["mean"] <= r["q97.5"] and r["mean"] == ab["mean_reward"]["random"]
    assert 1 / (m["n_draws"] + 1) <= m["empirical_p"] <= 1
    assert len(ab["random_features"]) == m["n_draws"]
    for draw in ab["random_features"]:  # same count per layer, never a relevant feature
        for layer, feats in draw.items():
            relevant = ab["ablated_features"][layer]
            assert len(feats) == len(relevant) and not set(feats) & set(relevant)
    ci = m["paired_ci"]["ablated_minus_spliced"]
    assert ci["difference"] == pytest.approx(ab["effect_ablated_minus_spliced"])
    assert ci["n"] == ab["sampling"]["n_completions"]


def test_table7_has_a_matched_control_with_p(vader):
    mc = vader["table7"]["matched_control"]
    assert mc["n_pairs"] == vader["table7"]["n_relevant_features"] > 0
    assert 0 < mc["p"] <= 1
    # matched on firing rate: the controls fire about as often overall as the relevant ones
    assert abs(mc["relevant_rate_overall"] - mc["matched_rate_overall"]) < 0.05


@pytest.mark.parametrize("run", ["vader", "dpo"])
def test_summary_holds_every_branch_l_result(demo_run, run):
    s = json.loads((demo_run / f"results/lfp/{run}/summary.json").read_text())
    layers = s["chosen_layers"]
    div = s["divergence"]
    assert len(layers) == min(div["n_layers_keep"], div["n_layers"]) and len(div["layers"]) >= 4
    ranked = sorted(div["layers"], key=lambda r: -r[div["rank_by"]])
    assert sorted(layers) == sorted(r["layer"] for r in ranked[: len(layers)])
    for layer in map(str, layers):
        small, big = s["sae"][layer]["small"], s["sae"][layer]["big"]
        assert big["n_latents"] == 2 * small["n_latents"]
        assert 0 < small["fvu"] < 1 and 0 < big["fvu"] < 1
        assert 0 < s["mmcs"][layer] <= 1
    t7 = s["table7"]
    assert {"relevant_feature_high", "average_feature_high", "n_high_inputs"} <= set(t7)
    if run == "vader":
        probe = s["probe"]
        assert {"kendall", "baseline_kendall", "sign_accuracy", "negative_only_kendall"} <= set(
            probe
        )
        rewards = s["ablation"]["mean_reward"]
        assert all(rewards[k] is not None for k in ("original", "spliced", "ablated", "random"))
    else:
        # the DPO path's logistic probe beats always guessing the majority class
        assert s["logistic_accuracy"] > s["probe"]["majority_baseline_test"], s["probe"]
