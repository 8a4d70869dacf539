"""Cross-dataset comparison: pooling, balanced draws, per-dataset effects, the sign-flip test."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from prefscope.analyze import AnalyzeSettings, controlled_logit
from prefscope.compare import balanced_rows, dataset_effects, pool_pairs, sign_differences
from prefscope.compare.effects import wilson_interval
from prefscope.compare.report import heatmap_rows
from prefscope.errors import InputError


def _pairs(n: int, n_val: int, n_dup: int = 0, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    split = ["val"] * n_val + ["train"] * (n - n_val)
    dedup = [True] * (n - n_dup) + [False] * n_dup
    return pl.DataFrame(
        {
            "pair_id": np.arange(n, dtype=np.int64),
            "prompt": [f"p{i}" for i in range(n)],
            "response_A": ["a"] * n,
            "response_B": ["b"] * n,
            "label": pl.Series(rng.integers(0, 2, n), dtype=pl.Int8),
            "length_delta": rng.normal(size=n),
            "split": split,
            "dedup": dedup,
        }
    )


def test_pool_pairs_renumbers_and_keeps_origin_and_shared_controls():
    a, b = _pairs(5, 1), _pairs(3, 1).with_columns(pl.col("label").cast(pl.Int64))
    pooled = pool_pairs(["x", "y"], [a, b])
    assert pooled["pair_id"].to_list() == list(range(8))
    assert pooled["dataset"].to_list() == ["x"] * 5 + ["y"] * 3
    assert pooled["source_pair_id"].to_list() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert "length_delta" in pooled.columns
    with pytest.raises(InputError, match="lacks"):
        pool_pairs(["x"], [a.drop("dedup")])


def test_balanced_rows_give_every_dataset_the_same_count():
    pooled = pool_pairs(["big", "small"], [_pairs(100, 20, n_dup=10), _pairs(30, 10)])
    dataset = pooled["dataset"].to_numpy()
    sub = balanced_rows(pooled, "subsample", seed=1)
    # train dedup rows: big 100-20-10 = 70, small 20 -> 20 each
    assert sub.counts["big"]["n_train_available"] == 70
    for part, expected in (("train", 20), ("val", 10)):
        rows = getattr(sub, part)
        assert (dataset[rows] == "big").sum() == (dataset[rows] == "small").sum() == expected
        assert len(set(rows.tolist())) == rows.size  # no repeats when subsampling
        assert (pooled["split"].to_numpy()[rows] == part).all()
        assert pooled["dedup"].to_numpy()[rows].all()
    up = balanced_rows(pooled, "upsample", seed=1)
    assert (dataset[up.train] == "small").sum() == (dataset[up.train] == "big").sum() == 70
    np.testing.assert_array_equal(sub.train, balanced_rows(pooled, "subsample", seed=1).train)
    with pytest.raises(InputError, match="balance"):
        balanced_rows(pooled, "weights", seed=1)


def test_a_dataset_without_train_rows_is_an_error_naming_it():
    pooled = pool_pairs(["a", "b"], [_pairs(10, 2), _pairs(4, 4)])
    with pytest.raises(InputError, match=r"\['b'\]"):
        balanced_rows(pooled, "subsample", seed=0)


def test_wilson_interval_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    k, n = np.array([0, 3, 50, 99]), np.array([40, 40, 100, 100])
    lo, hi = wilson_interval(k, n)
    ref_lo, ref_hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(lo, ref_lo, atol=1e-12)
    np.testing.assert_allclose(hi, ref_hi, atol=1e-12)


def _two_datasets(n: int = 1500, seed: int = 0):
    """Feature 0: +1.5 in 'a', -1.5 in 'b'; feature 1: +1.0 in both; feature 2: null."""
    rng = np.random.default_rng(seed)
    frames, codes = [], []
    for sign in (1.0, -1.0):
        z = rng.normal(size=(n, 3)) * (rng.random((n, 3)) < 0.5)
        length = rng.normal(size=n) * 20
        eta = sign * 1.5 * z[:, 0] + 1.0 * z[:, 1] + 0.02 * length
        y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
        frames.append(
            _pairs(n, n // 5, seed=seed).with_columns(
                pl.Series("label", y, dtype=pl.Int8), pl.Series("length_delta", length)
            )
        )
        codes.append(z)
    return pool_pairs(["a", "b"], frames), np.concatenate(codes)


def test_dataset_effects_are_each_datasets_own_controlled_logit():
    pooled, codes = _two_datasets()
    settings = AnalyzeSettings(controls=("length_delta",), fdr_q=0.05)
    effects = dataset_effects(pooled, codes, settings)
    assert effects.height == 6 and effects.columns[:2] == ["feature", "dataset"]
    for name in ("a", "b"):
        rows = (pooled["dataset"] == name).to_numpy()
        ref = controlled_logit(
            pooled["label"].to_numpy()[rows].astype(float),
            codes[rows],
            pooled["length_delta"].to_numpy()[rows],
        )
        got = effects.filter(pl.col("dataset") == name).sort("feature")
        np.testing.assert_allclose(got["coef"].to_numpy(), ref.coef, rtol=1e-10)
        np.testing.assert_allclose(got["prevalence"].to_numpy(), (codes[rows] != 0).mean(0))
        assert (got["prevalence_ci_low"] < got["prevalence"]).all()


def test_sign_differences_flag_only_significant_opposite_effects():
    pooled, codes = _two_datasets()
    effects = dataset_effects(pooled, codes, AnalyzeSettings(controls=("length_delta",)))
    diff = sign_differences(effects, ["a", "b"], fdr_q=0.05).sort("feature")
    assert diff["sign_flip"].to_list() == [True, False, False]
    a = effects.filter(pl.col("dataset") == "a").sort("feature")
    b = effects.filter(pl.col("dataset") == "b").sort("feature")
    z = (a["coef"] - b["coef"]) / (a["se"] ** 2 + b["se"] ** 2).sqrt()
    np.testing.assert_allclose(diff["z"].to_numpy(), z.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(diff["p"].to_numpy(), 2 * stats.norm.sf(np.abs(z.to_numpy())))
    assert diff["q"][0] < 1e-6


def test_sign_flip_needs_both_cis_to_exclude_zero():
    def row(feature, dataset, coef, se, q):
        lo, hi = (None, None) if coef is None else (coef - 1.96 * se, coef + 1.96 * se)
        return {"feature": feature, "dataset": dataset, "coef": coef, "se": se, "q": q,
                "ci_low": lo, "ci_high": hi}  # fmt: skip

    effects = pl.DataFrame(
        [
            row(0, "a", 0.5, 0.1, 1e-4), row(0, "b", -0.5, 0.1, 1e-4),  # flip
            row(1, "a", 0.5, 0.1, 1e-4), row(1, "b", -0.1, 0.1, 0.4),  # b's CI holds 0
            row(2, "a", 0.5, 0.1, 1e-4), row(2, "b", 0.1, 0.1, 0.4),  # same sign
            row(3, "a", None, None, None), row(3, "b", -0.5, 0.1, 1e-4),  # not estimable
        ]
    )  # fmt: skip
    diff = sign_differences(effects, ["a", "b"], fdr_q=0.05).sort("feature")
    assert diff["sign_flip"].to_list() == [True, False, False, False]
    assert diff["q"][1] < 0.05  # the difference alone is significant, the flip is not
    assert diff["q"][3] is None


def test_heatmap_always_shows_sign_flips():
    effects = pl.DataFrame({"feature": [0, 1, 2, 0, 1, 2], "coef": [0.1, 2.0, 1.0, -0.1, 1.0, 0.5]})
    assert heatmap_rows(effects, {0}, max_features=2) == [0, 1]
    assert heatmap_rows(effects, set(), max_features=2) == [1, 2]


def test_a_dataset_with_one_label_class_is_an_error_naming_it():
    pooled, codes = _two_datasets(n=200)
    pooled = pooled.with_columns(
        pl.when(pl.col("dataset") == "b").then(1).otherwise(pl.col("label")).alias("label")
    )
    with pytest.raises(InputError, match="'b' needs labeled pairs of both classes"):
        dataset_effects(pooled, codes, AnalyzeSettings(controls=("length_delta",)))
