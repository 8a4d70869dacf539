"""End to end: branch L's default demo plants sentiment in the reward and recovers it.

The VADER run fine-tunes tiny-neox with GRPO on the lexicon reward; the probe on the
fine-tuned model's SAE codes must then rank held-out words by their lexicon valence,
better than the untrained Xavier probe. The margins below sit well inside what the demo
reaches (reward about 0.0 -> 0.3, tau about 0.6 on 37 words, p < 1e-5, baseline near 0).
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def vader(demo_run):
    return json.loads((demo_run / "results/lfp/vader/summary.json").read_text())


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
