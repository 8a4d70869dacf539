"""Rank AUC and the vectorised bootstrap."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from prefscope.analyze import bootstrap_aucs, roc_auc, weighted_auc


def test_perfect_reversed_tied_and_hand_case():
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert roc_auc(y, np.zeros(4)) == 0.5
    # pairs (pos, neg): (0.5 vs 0.1, 0.5) -> 1 + 1/2 ; (0.3 vs 0.1, 0.5) -> 1 + 0 => 2.5 / 4
    assert roc_auc(y, np.array([0.1, 0.5, 0.5, 0.3])) == 0.625
    assert np.isnan(roc_auc(np.ones(3), np.arange(3.0)))


def test_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(size=300) + y, 1)  # many ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_weighted_auc_equals_auc_of_the_resample():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    s = np.round(rng.normal(size=60) + y, 1)
    idx = rng.integers(0, 60, size=(5, 60))
    counts = np.stack([np.bincount(i, minlength=60) for i in idx])
    got = weighted_auc(y, s, counts)
    want = [roc_auc_score(y[i], s[i]) for i in idx]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert weighted_auc(y, s, np.ones((1, 60)))[0] == pytest.approx(roc_auc(y, s))
    only_neg = (y == 0).astype(float)[None, :]
    assert np.isnan(weighted_auc(y, s, only_neg)[0])


def test_bootstrap_is_seeded_paired_and_covers_the_point():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 400)
    scores = {"good": y + rng.normal(size=400), "noise": rng.normal(size=400)}
    a = bootstrap_aucs(y, scores, n_bootstrap=300, seed=7)
    b = bootstrap_aucs(y, scores, n_bootstrap=300, seed=7)
    c = bootstrap_aucs(y, scores, n_bootstrap=300, seed=8)
    np.testing.assert_array_equal(a["good"].samples, b["good"].samples)
    assert not np.array_equal(a["good"].samples, c["good"].samples)
    for est in a.values():
        assert est.samples.shape == (300,)
        assert est.ci_low < est.auc < est.ci_high
    assert a["good"].auc == pytest.approx(roc_auc(y, scores["good"]))
    assert a["good"].ci_low > 0.65 and a["noise"].ci_low < 0.5 < a["noise"].ci_high
    # Percentile interval of the stored samples.
    lo, hi = np.quantile(a["good"].samples, [0.025, 0.975])
    assert (a["good"].ci_low, a["good"].ci_high) == (lo, hi)


def test_zero_bootstrap_gives_nan_interval():
    y = np.array([0, 1, 0, 1])
    est = bootstrap_aucs(y, {"m": np.array([0.0, 1.0, 0.2, 0.9])}, n_bootstrap=0, seed=0)
    assert est["m"].auc == 1.0 and np.isnan(est["m"].ci_low)
