"""Δ win rate: how often the response with more of a feature is the preferred one.

A model-free companion to the controlled logit that a reader can check by counting: among the
labeled pairs where feature j is active (z != 0), the response with more of it is A when
z > 0 and B when z < 0; ``win_rate`` is the share of those pairs where that response won, and
``delta_win_rate = win_rate - 0.5``. The two-sided exact binomial test against 1/2 gives a
p-value that needs no model assumptions (but, unlike the logit, no length control).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class WinRateResult:
    """Per-feature arrays of shape (M,); NaN where a feature is never active."""

    win_rate: np.ndarray
    delta_win_rate: np.ndarray
    p: np.ndarray
    n_active: np.ndarray
    n_wins: np.ndarray


def binom_two_sided_half(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Exact two-sided binomial p-value of k successes in n trials against p = 1/2.

    Under p = 1/2 the distribution is symmetric, so the "sum of outcomes no more likely than
    k" rule of ``scipy.stats.binomtest`` reduces to twice the smaller tail, capped at 1. This
    vectorises over features where ``binomtest`` would need a Python loop.
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        tail = stats.binom.cdf(np.minimum(k, n - k), n, 0.5)
        p = np.minimum(1.0, 2.0 * tail)
    return np.where(n > 0, p, np.nan)


def win_rates(y: np.ndarray, z: np.ndarray) -> WinRateResult:
    """Win rate of the response with more of each feature, over labeled rows.

    ``y``: (N,) 1 if A was preferred else 0. ``z``: (N,) or (N, M) signed activations.
    """
    y = np.asarray(y).ravel()
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must contain only 0 and 1")
    z = np.asarray(z)
    one_d = z.ndim == 1
    z = z[:, None] if one_d else z
    if z.shape[0] != y.size:
        raise ValueError(f"z has {z.shape[0]} rows, y has {y.size}")
    a_won = (y == 1)[:, None]
    # The "more" response won when (z > 0 and A won) or (z < 0 and B won).
    wins = ((z > 0) & a_won).sum(axis=0) + ((z < 0) & ~a_won).sum(axis=0)
    n_active = (z != 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n_active > 0, wins / n_active, np.nan)
    res = WinRateResult(
        win_rate=rate,
        delta_win_rate=rate - 0.5,
        p=binom_two_sided_half(wins, n_active),
        n_active=n_active.astype(np.int64),
        n_wins=wins.astype(np.int64),
    )
    if one_d:
        return WinRateResult(**{k: v[0] for k, v in vars(res).items()})
    return res


def prevalence(z: np.ndarray) -> np.ndarray:
    """Share of rows on which each feature is active (z != 0)."""
    z = np.asarray(z)
    return (z != 0).mean(axis=0) if z.shape[0] else np.full(z.shape[1:], np.nan)
