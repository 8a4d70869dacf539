"""Benjamini–Hochberg q-values."""

import numpy as np
from statsmodels.stats.multitest import multipletests

from prefscope.analyze import bh_fdr

# Benjamini & Hochberg (1995), Table 1 example: 15 p-values.
BH_P = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
        0.4262, 0.5719, 0.6528, 0.7590, 1.0000]  # fmt: skip
# R: p.adjust(p, "BH")
BH_Q = [0.0015, 0.0030, 0.0095, 0.035625, 0.0603, 0.06385714, 0.06385714, 0.0645, 0.0765,
        0.486, 0.58118182, 0.714875, 0.75323077, 0.81321429, 1.0]  # fmt: skip


def test_textbook_values():
    q = bh_fdr(np.array(BH_P))
    np.testing.assert_allclose(q, BH_Q, atol=5e-8)
    # At FDR 5% BH rejects exactly the first four hypotheses.
    assert (q < 0.05).sum() == 4


def test_order_invariant_monotone_and_nan_safe():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=50) ** 3
    p[[3, 17]] = np.nan
    q = bh_fdr(p)
    finite = np.isfinite(p)
    assert np.isnan(q[~finite]).all()
    ref = multipletests(p[finite], method="fdr_bh")[1]
    np.testing.assert_allclose(q[finite], ref, rtol=1e-12)
    order = np.argsort(p[finite])
    assert (np.diff(q[finite][order]) >= 0).all()
    assert (q[finite] >= p[finite]).all()
    perm = rng.permutation(50)
    np.testing.assert_array_equal(bh_fdr(p[perm]), q[perm])


def test_empty_and_all_nan():
    assert bh_fdr(np.array([])).shape == (0,)
    assert np.isnan(bh_fdr(np.array([np.nan, np.nan]))).all()
