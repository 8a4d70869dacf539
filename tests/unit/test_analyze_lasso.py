"""Controlled Lasso: controls unpenalized, planted features recovered, KKT conditions hold."""

import numpy as np
import pytest
import statsmodels.api as sm

from prefscope.analyze import ControlledLasso, lasso_subsets


@pytest.fixture(scope="module")
def planted():
    """3 true features of 20, a strong control, and a decoy feature that copies the control."""
    rng = np.random.default_rng(0)
    n, p = 2000, 20
    length = rng.normal(size=n) * 30
    feats = rng.normal(size=(n, p))
    feats[:, 5] = 0.95 * length / 30 + 0.3 * rng.normal(size=n)  # decoy
    eta = 0.05 * length + 0.8 * feats[:, 0] - 0.7 * feats[:, 1] + 0.6 * feats[:, 2]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return y, feats, length


def test_top3_are_the_planted_features(planted):
    y, feats, length = planted
    subsets = lasso_subsets(y, feats, length, [3])
    assert subsets[3].exact
    assert sorted(subsets[3].features) == [0, 1, 2]
    assert np.sign(subsets[3].coefs).tolist() == [1.0, -1.0, 1.0]


def test_without_the_control_the_decoy_is_picked(planted):
    # The point of leaving the control unpenalized: penalize it (here: omit it) and the
    # feature that merely proxies length enters the top 3.
    y, feats, _ = planted
    assert 5 in ControlledLasso(y, feats, None).select_k(3).features


def test_controls_never_dropped_and_null_fit_is_the_controls_mle(planted):
    y, feats, length = planted
    solver = ControlledLasso(y, feats, length)
    design = np.column_stack([np.ones(y.size), (length - length.mean()) / length.std()])
    ref = sm.Logit(y, design).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(
        [solver.null_fit.intercept, *solver.null_fit.control_coef], ref.params, atol=1e-6
    )
    assert solver.null_fit.n_selected == 0
    for k in (1, 2, 3, 5, 10):
        sub = solver.select_k(k)
        assert len(sub.features) == k
        assert sub.control_coefs[0] > 1.0  # the length effect stays in at every penalty


def test_kkt_conditions(planted):
    y, feats, length = planted
    solver = ControlledLasso(y, feats, length)
    fit = solver.fit(0.1 * solver.lambda_max)
    mu = 1 / (1 + np.exp(-(fit.intercept + solver.a @ fit.coef)))
    grad = solver.a.T @ (y - mu) / y.size
    g_ctrl, g_feat = grad[:1], grad[1:]
    nz = fit.feature_coef != 0
    assert abs(g_ctrl[0]) < 1e-6  # unpenalized: plain score equation
    np.testing.assert_allclose(g_feat[nz], fit.lam * np.sign(fit.feature_coef[nz]), atol=1e-6)
    assert (np.abs(g_feat[~nz]) <= fit.lam + 1e-8).all()


def test_unreachable_k_takes_the_closest_smaller_subset(planted):
    # On a budget of 6 penalty steps the path points seen have 0-3 or > 4 features: k=4 is
    # not hit, and the largest subset with <= 4 features is reported, flagged inexact.
    y, feats, length = planted
    solver = ControlledLasso(y, feats, length)
    sub = solver.select_k(4, max_steps=6)
    assert not sub.exact
    assert sorted(sub.features) == [0, 1, 2]
    assert 0 < sub.lam < solver.lambda_max
    assert solver.select_k(4).exact  # with the default budget the bisection gets there


def test_k_larger_than_features_and_constant_columns():
    rng = np.random.default_rng(4)
    n = 300
    feats = np.column_stack([rng.normal(size=n), np.zeros(n)])
    y = rng.binomial(1, 1 / (1 + np.exp(-feats[:, 0])))
    sub = ControlledLasso(y, feats).select_k(5)
    assert sub.features == [0] and sub.k == 1 and sub.exact  # the zero column never enters
