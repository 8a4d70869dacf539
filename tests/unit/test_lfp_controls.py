"""Controls of branch L: within-sign τ, base-model differences, matched random features."""

from __future__ import annotations

import numpy as np
import pytest

from prefscope.lfp import controls
from prefscope.lfp.validation.records import matched_table7


@pytest.fixture
def lexicon() -> dict[str, float]:
    rng = np.random.default_rng(0)
    pos = {f"p{i}": float(v) for i, v in enumerate(rng.uniform(0.5, 3.5, 30))}
    neg = {f"n{i}": float(v) for i, v in enumerate(rng.uniform(-3.5, -0.5, 30))}
    return {**pos, **neg}


def test_sign_only_predictor_scores_high_pooled_but_nothing_within_sign(lexicon):
    sign_only = controls.sign_only_baseline(lexicon)
    # 30 + 30 words, prediction ties within each sign: tau-b = 900 / sqrt(1770 * 900) = 0.713
    assert sign_only["tau"] == pytest.approx(900 / np.sqrt(1770 * 900))
    assert sign_only["n_words"] == 60
    within = controls.within_sign({w: float(np.sign(v)) for w, v in lexicon.items()}, lexicon)
    assert within["positive"]["tau"] is None and within["negative"]["tau"] is None
    perfect = controls.within_sign(lexicon, lexicon)
    assert perfect["positive"] == {"tau": 1.0, "p": perfect["positive"]["p"], "n_words": 30}
    assert perfect["negative"]["tau"] == 1.0 and perfect["negative"]["p"] < 1e-6


def test_paired_tau_difference_is_zero_for_identical_models(lexicon):
    noisy = {w: v + np.random.default_rng(1).normal() for w, v in lexicon.items()}
    d = controls.paired_tau_difference(noisy, dict(noisy), lexicon, n_boot=200, seed=0)
    assert d["difference"] == 0.0 and d["ci95"] == [0.0, 0.0]
    assert controls.ci_excludes_zero(d["ci95"]) is False
    assert "already in the base model" in controls.attribution(d, "tau")


def test_paired_tau_difference_detects_a_real_gain(lexicon):
    rng = np.random.default_rng(2)
    base = {w: float(rng.normal()) for w in lexicon}  # knows nothing
    d = controls.paired_tau_difference(lexicon, base, lexicon, n_boot=300, seed=0)
    assert d["tau_policy"] == 1.0 and abs(d["tau_base"]) < 0.3
    assert d["ci95"][0] > 0.5 and controls.ci_excludes_zero(d["ci95"])
    assert "attributable to the fine-tune" in controls.attribution(d, "tau")
    pos = controls.paired_tau_difference(
        lexicon, base, lexicon, n_boot=100, seed=0, subset=lambda v: v > 0
    )
    assert pos["n_words"] == 30


def test_paired_mean_difference_ci_covers_the_shift():
    rng = np.random.default_rng(3)
    b = rng.normal(size=400)
    a = b + 0.5 + rng.normal(scale=0.1, size=400)  # paired: noise mostly cancels
    d = controls.paired_mean_difference(a, b, n_boot=500, seed=0)
    assert d["ci95"][0] < 0.5 < d["ci95"][1] and d["ci95"][1] - d["ci95"][0] < 0.05


def test_matched_features_are_live_non_target_and_rate_matched():
    rates = np.linspace(0, 0.5, 101)
    rates[[3, 50, 51]] = 0.0  # dead features
    targets = [10, 80, 90]
    draws = [
        controls.matched_features(rates, targets, np.random.default_rng(s), 5) for s in range(20)
    ]
    for d in draws:
        assert len(d) == 3 and not set(d) & set(targets)
        assert all(rates[i] > 0 for i in d)
        assert abs(np.mean(rates[d]) - np.mean(rates[targets])) < 0.03
    assert len({tuple(d) for d in draws}) > 1  # independent draws differ


def test_empirical_and_permutation_p():
    null = np.arange(19, dtype=float)
    assert controls.empirical_p(-1.0, null, "less") == pytest.approx(1 / 20)
    assert controls.empirical_p(9.0, null, "less") == pytest.approx(11 / 20)
    assert controls.sign_flip_p([0.2, 0.1, 0.3, 0.4, 0.1], 1000, 0) == pytest.approx(1 / 32)
    assert controls.sign_flip_p([0.2, -0.2], 1000, 0) == pytest.approx(3 / 4)


def test_table7_control_tells_specific_features_from_frequent_ones():
    rng = np.random.default_rng(4)
    n, m = 400, 40
    high = np.zeros(n, dtype=bool)
    high[:100] = True
    x = (rng.random((n, m)) < np.linspace(0.05, 0.6, m)).astype(np.float32)
    # relevant features 0-5 fire on high inputs, rarely elsewhere
    x[:, :6] = 0
    x[:100, :6] = rng.random((100, 6)) < 0.8
    out = matched_table7(x, high, list(range(6)), pool=3, n_perm=1000, seed=0)
    assert out["n_pairs"] == 6 and out["relevant_high"] > out["matched_high"] + 0.3
    assert out["p"] == pytest.approx(1 / 64)
    assert abs(out["relevant_rate_overall"] - out["matched_rate_overall"]) < 0.05
    # frequent non-specific "relevant" features: no better than their matches
    null = matched_table7(x, high, [30, 31, 32, 33, 34, 35], pool=3, n_perm=1000, seed=0)
    assert null["p"] > 0.05


def test_probe_stage_base_model_control_pairs_words_and_refuses_other_triples(lexicon):
    import polars as pl

    from prefscope.errors import InputError
    from prefscope.lfp.probe.evaluate import base_model_pairs, base_model_vader, same_triples
    from prefscope.lfp.probe.probes import ProbeConfig

    words = pl.DataFrame(
        {"word": list(lexicon), "value": list(lexicon.values()), "pred": list(lexicon.values())}
    )
    base = words.with_columns(pred=pl.Series(np.random.default_rng(5).normal(size=60)))
    out = base_model_vader(words, base, ProbeConfig(n_boot=200))
    assert out["kendall"]["tau_policy"] == 1.0 and out["kendall"]["ci95"][0] > 0
    assert {k: v["n_words"] for k, v in out["within_sign_kendall"].items()} == {
        "positive": 30,
        "negative": 30,
    }
    assert out["statement"].startswith("Pooled tau is attributable to the fine-tune")
    same = base_model_vader(words, words, ProbeConfig(n_boot=200))
    assert same["kendall"]["difference"] == 0 and "already in the base" in same["statement"]

    per_input = pl.DataFrame(
        {
            "input_id": range(6),
            "triple_id": [0, 0, 1, 1, 2, 2],
            "split": ["test"] * 4 + ["train"] * 2,
            "label": [1, 0, 1, 0, 1, 0],
            "prob": [0.9, 0.1, 0.8, 0.3, 0.5, 0.5],
        }
    )
    flipped = per_input.with_columns(prob=1 - pl.col("prob"))
    acc = base_model_pairs(per_input, flipped, ProbeConfig(n_boot=200))["accuracy_test"]
    assert acc["accuracy_policy"] == 1.0 and acc["accuracy_base"] == 0.0 and acc["n"] == 2
    with pytest.raises(InputError, match="other triples"):
        same_triples(pl.DataFrame({"triple_id": [1, 2]}), pl.DataFrame({"triple_id": [2, 1]}), "x")
