"""Controlled logit: equals statsmodels, matches a 2x2 table by hand, flags bad fits."""

import numpy as np
import pytest
import statsmodels.api as sm

from prefscope.analyze import controlled_logit


def _std(a):
    return (a - a.mean(axis=0)) / a.std(axis=0)


def test_matches_statsmodels_on_random_data():
    rng = np.random.default_rng(0)
    n = 1500
    controls = rng.normal(size=(n, 2)) * [40.0, 1.0]
    x = rng.normal(size=(n, 4)) * rng.binomial(1, 0.3, size=(n, 4))
    eta = 0.2 + 0.01 * controls[:, 0] - 0.3 * controls[:, 1] + 0.9 * x[:, 0] - 0.4 * x[:, 2]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    res = controlled_logit(y, x, controls)
    assert res.n == n
    assert (res.status == "ok").all()
    for j in range(4):
        design = np.column_stack([np.ones(n), _std(controls), _std(x[:, j])])
        ref = sm.Logit(y, design).fit(disp=0, tol=1e-12)
        ci = ref.conf_int()[-1]
        np.testing.assert_allclose(res.coef[j], ref.params[-1], atol=1e-6)
        np.testing.assert_allclose(res.se[j], ref.bse[-1], atol=1e-6)
        np.testing.assert_allclose(res.z[j], ref.tvalues[-1], atol=1e-6)
        np.testing.assert_allclose(res.p[j], ref.pvalues[-1], atol=1e-6)
        np.testing.assert_allclose([res.ci_low[j], res.ci_high[j]], ci, atol=1e-6)


def test_two_by_two_table_by_hand():
    # x=1: 30 wins, 10 losses; x=0: 20 wins, 40 losses. Without controls the logit slope on
    # the raw binary x is the log odds ratio, log(30*40 / (10*20)) = log 6, with the Woolf
    # SE sqrt(1/30 + 1/10 + 1/20 + 1/40); per SD of x (SD = sqrt(0.4 * 0.6)) both scale.
    x = np.r_[np.ones(40), np.zeros(60)]
    y = np.r_[np.ones(30), np.zeros(10), np.ones(20), np.zeros(40)]
    res = controlled_logit(y, x)
    sd = np.sqrt(0.24)
    assert res.coef.shape == ()
    assert float(res.coef) == pytest.approx(np.log(6) * sd, abs=1e-9)
    assert float(res.se) == pytest.approx(np.sqrt(1 / 30 + 1 / 10 + 1 / 20 + 1 / 40) * sd, 1e-9)
    assert bool(res.converged)


def test_vectorised_equals_one_at_a_time(monkeypatch):
    # 2 columns per working chunk, so the 3 features span two chunks.
    monkeypatch.setattr("prefscope.analyze.logit._CHUNK_ELEMENTS", 800)
    rng = np.random.default_rng(1)
    n = 400
    c = rng.normal(size=n)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = rng.binomial(1, 1 / (1 + np.exp(-c - x[:, 1])))
    many = controlled_logit(y, x, c)
    assert (many.status == "ok").all() and many.p[1] < 1e-6
    for j in range(3):
        one = controlled_logit(y, x[:, j], c)
        assert float(one.coef) == pytest.approx(many.coef[j], abs=1e-12)
        assert float(one.p) == pytest.approx(many.p[j], abs=1e-12)


def test_flags_separation_constant_and_collinear_features():
    rng = np.random.default_rng(2)
    n = 300
    c = rng.normal(size=n)
    y = rng.binomial(1, 0.5, size=n)
    quasi = np.zeros(n)
    quasi[np.flatnonzero(y == 1)[:4]] = 1.0  # active only on 4 wins: MLE is infinite
    complete = 2.0 * y - 1.0
    x = np.column_stack([quasi, complete, np.zeros(n), 3 * c + 1, rng.normal(size=n)])
    res = controlled_logit(y, x, c)
    assert res.status.tolist() == ["separated", "separated", "constant", "singular", "ok"]
    assert res.separated.tolist() == [True, True, False, False, False]
    assert np.isnan(res.coef[:4]).all() and np.isnan(res.p[:4]).all()
    assert np.isfinite(res.p[4])


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="only 0 and 1"):
        controlled_logit(np.array([0, 1, 2]), np.arange(3.0))
    with pytest.raises(ValueError, match="both classes"):
        controlled_logit(np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="constant"):
        controlled_logit(np.array([0, 1, 0, 1]), np.arange(4.0), np.ones(4))
