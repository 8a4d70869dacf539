"""Δ win rate and its exact binomial test on a hand-made table."""

import numpy as np
import pytest
from scipy import stats

from prefscope.analyze import prevalence, win_rates
from prefscope.analyze.winrate import binom_two_sided_half


def test_six_row_table():
    y = np.array([1, 0, 1, 1, 0, 0])  # 1 = A preferred
    z = np.array(
        [
            # f0: win (A more, A won), win (B more, B won), -, loss, loss, -  -> 2 / 4
            # f1: win, win, win, -, win, -                                   -> 4 / 4
            # f2: never active
            [2.0, 1.0, 0.0],
            [-1.0, -1.0, 0.0],
            [0.0, 1.0, 0.0],
            [-3.0, 0.0, 0.0],
            [0.5, -2.0, 0.0],
            [0.0, 0.0, 0.0],
        ]
    )
    res = win_rates(y, z)
    assert res.n_active.tolist() == [4, 4, 0]
    assert res.n_wins.tolist() == [2, 4, 0]
    np.testing.assert_allclose(res.win_rate[:2], [0.5, 1.0])
    np.testing.assert_allclose(res.delta_win_rate[:2], [0.0, 0.5])
    np.testing.assert_allclose(res.p[:2], [1.0, 2 * 0.5**4])
    assert np.isnan(res.win_rate[2]) and np.isnan(res.p[2])
    np.testing.assert_allclose(prevalence(z), [4 / 6, 4 / 6, 0.0])
    one = win_rates(y, z[:, 1])
    assert float(one.win_rate) == 1.0


@pytest.mark.parametrize("n", [1, 2, 7, 10, 31])
def test_binomial_p_matches_scipy(n):
    ks = np.arange(n + 1)
    expected = [stats.binomtest(int(k), n, 0.5).pvalue for k in ks]
    np.testing.assert_allclose(binom_two_sided_half(ks, np.full_like(ks, n)), expected, rtol=1e-12)
