"""Clustered uncertainty and the joint model on small exact cases."""

import numpy as np
import pytest
import statsmodels.api as sm

from prefscope.analyze import bootstrap_aucs, controlled_logit
from prefscope.analyze.auc import bootstrap_weights
from prefscope.analyze.joint import joint_logit


def _std(a):
    return (a - a.mean(axis=0)) / a.std(axis=0)


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=n) * 30
    x = rng.normal(size=(n, 3))
    groups = rng.integers(0, n // 5, size=n)
    eta = 0.01 * c + 0.8 * x[:, 0] - 0.5 * x[:, 1] + rng.normal(size=n // 5)[groups]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return y, x, c, groups


def test_cluster_robust_se_matches_statsmodels():
    y, x, c, g = _data()
    n_groups = np.unique(g).size
    res = controlled_logit(y, x, c, groups=g)
    for j in range(3):
        design = np.column_stack([np.ones(y.size), _std(c), _std(x[:, j])])
        # statsmodels' CR1 also multiplies by (N-1)/(N-K); we apply G/(G-1) only
        ref = sm.Logit(y, design).fit(
            disp=0, tol=1e-12, cov_type="cluster", cov_kwds={"groups": g, "use_correction": False}
        )
        se = ref.bse[-1] * np.sqrt(n_groups / (n_groups - 1))
        np.testing.assert_allclose(res.coef[j], ref.params[-1], atol=1e-7)
        np.testing.assert_allclose(res.se[j], se, rtol=1e-6)


def test_duplicating_every_row_does_not_shrink_the_clustered_se():
    y, x, c, g = _data()
    one = controlled_logit(y, x, c, groups=g)
    two = controlled_logit(np.r_[y, y], np.r_[x, x], np.r_[c, c], groups=np.r_[g, g])
    np.testing.assert_allclose(two.coef, one.coef, rtol=1e-8)
    np.testing.assert_allclose(two.se, one.se, rtol=1e-8)
    naive = controlled_logit(np.r_[y, y], np.r_[x, x], np.r_[c, c])
    np.testing.assert_allclose(naive.se, controlled_logit(y, x, c).se / np.sqrt(2), rtol=1e-8)
    j1 = joint_logit(y, x, c, groups=g)
    j2 = joint_logit(np.r_[y, y], np.r_[x, x], np.r_[c, c], groups=np.r_[g, g])
    np.testing.assert_allclose(j2.se, j1.se, rtol=1e-8)


def test_singleton_clusters_give_the_sandwich_of_independent_rows():
    y, x, c, _ = _data()
    res = controlled_logit(y, x[:, 0], c, groups=np.arange(y.size))
    design = np.column_stack([np.ones(y.size), _std(c), _std(x[:, 0])])
    ref = sm.Logit(y, design).fit(disp=0, tol=1e-12, cov_type="HC0")
    np.testing.assert_allclose(float(res.se), ref.bse[-1] * np.sqrt(y.size / (y.size - 1)),
                               rtol=1e-6)  # fmt: skip


def test_joint_logit_matches_statsmodels():
    y, x, c, _ = _data()
    res = joint_logit(y, x, c)
    design = np.column_stack([np.ones(y.size), _std(c), _std(x)])
    ref = sm.Logit(y, design).fit(disp=0, tol=1e-12)
    assert res.status == "ok" and not res.clustered
    np.testing.assert_allclose(res.coef, ref.params[2:], atol=1e-7)
    np.testing.assert_allclose(res.se, ref.bse[2:], atol=1e-7)
    np.testing.assert_allclose(res.p, ref.pvalues[2:], atol=1e-7)
    np.testing.assert_allclose(res.control_coef, ref.params[1:2], atol=1e-7)


def test_joint_removes_the_bias_a_shared_control_hands_a_null_feature():
    """Two concepts add words; only one is rewarded. Holding length fixed, the null one
    looks penalized one at a time, and is null jointly."""
    rng = np.random.default_rng(3)
    n = 6000
    a = rng.integers(-1, 2, size=n).astype(float)  # rewarded, adds 20 words
    b = rng.integers(-1, 2, size=n).astype(float)  # zero weight, adds 20 words
    length = 20 * a + 20 * b + rng.normal(size=n) * 5
    y = rng.binomial(1, 1 / (1 + np.exp(-1.5 * a)))
    per = controlled_logit(y, np.column_stack([a, b]), length)
    joint = joint_logit(y, np.column_stack([a, b]), length)
    assert per.p[1] < 1e-6 and per.coef[1] < 0  # the artifact
    assert joint.p[1] > 0.01 and joint.p[0] < 1e-6


def test_constant_column_is_nan_in_the_joint_model():
    y, x, c, _ = _data()
    res = joint_logit(y, np.column_stack([x, np.ones(y.size)]), c)
    assert np.isnan(res.coef[3]) and np.isfinite(res.coef[:3]).all()


def test_cluster_bootstrap_moves_whole_clusters():
    groups = np.array([0, 0, 0, 1, 2, 2])
    for w in bootstrap_weights(6, 50, 0, groups):
        assert (w[:, 0] == w[:, 1]).all() and (w[:, 1] == w[:, 2]).all()
        assert (w[:, 4] == w[:, 5]).all()
        # G clusters drawn G times: the cluster multiplicities sum to 3
        assert (w[:, [0, 3, 4]].sum(axis=1) == 3).all()


def test_cluster_bootstrap_of_duplicated_rows_is_wider_than_the_row_bootstrap():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=100)
    s = y + rng.normal(size=100) * 1.5
    yy, ss, g = np.tile(y, 5), np.tile(s, 5), np.tile(np.arange(100), 5)
    rows = bootstrap_aucs(yy, {"m": ss}, 400, 0)["m"]
    clus = bootstrap_aucs(yy, {"m": ss}, 400, 0, groups=g)["m"]
    single = bootstrap_aucs(y, {"m": s}, 400, 0)["m"]
    assert clus.auc == pytest.approx(single.auc)
    width = lambda e: e.ci_high - e.ci_low  # noqa: E731
    assert width(clus) > 1.8 * width(rows)
    assert width(clus) == pytest.approx(width(single), rel=0.25)


def test_joint_bootstrap_ci_is_seeded_and_covers_the_estimate():
    y, x, c, g = _data()
    a = joint_logit(y, x, c, groups=g, n_bootstrap=60, seed=1)
    b = joint_logit(y, x, c, groups=g, n_bootstrap=60, seed=1)
    np.testing.assert_array_equal(a.boot_ci_low, b.boot_ci_low)
    assert a.n_bootstrap == 60
    assert (a.boot_ci_low < a.coef).all() and (a.coef < a.boot_ci_high).all()
    # the cluster bootstrap width is of the order of the cluster-robust Wald width
    ratio = (a.boot_ci_high - a.boot_ci_low) / (a.ci_high - a.ci_low)
    assert ((ratio > 0.6) & (ratio < 1.6)).all(), ratio
    # duplicated rows in their clusters: the same resampled clusters, the same interval
    d = joint_logit(np.r_[y, y], np.r_[x, x], np.r_[c, c], groups=np.r_[g, g],
                    n_bootstrap=60, seed=1)  # fmt: skip
    np.testing.assert_allclose(d.boot_ci_low, a.boot_ci_low, rtol=1e-6)


def test_per_feature_bootstrap_ci_is_seeded_shared_and_invariant_to_duplicates():
    y, x, c, g = _data()
    a = controlled_logit(y, x, c, groups=g, n_bootstrap=60, seed=1)
    b = controlled_logit(y, x, c, groups=g, n_bootstrap=60, seed=1)
    np.testing.assert_array_equal(a.boot_ci_low, b.boot_ci_low)
    assert (a.boot_ci_low < a.coef).all() and (a.coef < a.boot_ci_high).all()
    ratio = (a.boot_ci_high - a.boot_ci_low) / (a.ci_high - a.ci_low)
    assert ((ratio > 0.6) & (ratio < 1.6)).all(), ratio
    # one resample per replicate, shared by all features: a feature fitted alone gets the same
    one = controlled_logit(y, x[:, 1], c, groups=g, n_bootstrap=60, seed=1)
    np.testing.assert_allclose(one.boot_ci_low, a.boot_ci_low[1], rtol=1e-6)
    # duplicated rows in their clusters: the same resampled clusters, the same interval
    d = controlled_logit(np.r_[y, y], np.r_[x, x], np.r_[c, c], groups=np.r_[g, g],
                         n_bootstrap=60, seed=1)  # fmt: skip
    np.testing.assert_allclose(d.boot_ci_low, a.boot_ci_low, rtol=1e-6)
    np.testing.assert_allclose(d.boot_ci_high, a.boot_ci_high, rtol=1e-6)
    none = controlled_logit(y, x, c, groups=g)
    assert np.isnan(none.boot_ci_low).all() and np.isnan(none.boot_ci_high).all()


def test_per_feature_bootstrap_with_singleton_clusters_is_the_row_bootstrap():
    y, x, c, _ = _data()
    rows = controlled_logit(y, x, c, n_bootstrap=40, seed=3)
    single = controlled_logit(y, x, c, groups=3 * np.arange(y.size) + 7, n_bootstrap=40, seed=3)
    np.testing.assert_allclose(single.boot_ci_low, rows.boot_ci_low, rtol=1e-9)
    np.testing.assert_allclose(single.boot_ci_high, rows.boot_ci_high, rtol=1e-9)


def test_per_feature_bootstrap_widens_for_copies_within_a_cluster():
    rng = np.random.default_rng(5)
    n_groups, size = 150, 4
    g = np.repeat(np.arange(n_groups), size)

    def draw(x, c):
        return rng.binomial(1, 1 / (1 + np.exp(-(0.7 * x + 0.3 * c)))).astype(float)

    x_ind, c_ind = rng.normal(size=(2, g.size))  # independent rows in each cluster
    x_one, c_one = rng.normal(size=(2, n_groups))
    y_one = draw(x_one, c_one)
    rep = np.repeat  # perfectly correlated copies: each cluster is one row, repeated
    ind = controlled_logit(draw(x_ind, c_ind), x_ind, c_ind, groups=g, n_bootstrap=200, seed=0)
    cop = controlled_logit(
        rep(y_one, size), rep(x_one, size), rep(c_one, size), groups=g, n_bootstrap=200, seed=0
    )
    w_ind = ind.boot_ci_high - ind.boot_ci_low
    w_cop = cop.boot_ci_high - cop.boot_ci_low
    assert w_cop > 1.5 * w_ind  # about sqrt(4) = 2: copies are one piece of evidence
