"""Benjamini–Hochberg false discovery rate control."""

from __future__ import annotations

import numpy as np


def bh_fdr(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), same shape as ``p``.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the m finite p-values sorted ascending,
    so q is monotone in p, and rejecting ``q < alpha`` controls the FDR at alpha (independent
    or positively dependent tests). NaN p-values (features that could not be estimated) stay
    NaN and do not count towards m: they were never tested.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    vals = p[finite]
    m = vals.size
    if m == 0:
        return q
    order = np.argsort(vals, kind="stable")
    scaled = vals[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    q[finite] = out
    return q
