"""Rank-based ROC-AUC and a vectorised percentile bootstrap.

The bootstrap resamples validation rows with the fitted scores held fixed (it measures the
uncertainty from the finite validation set, not from refitting). A resample is a vector of
multiplicities, so the AUC of every resample is a weighted Mann–Whitney statistic computed
for all resamples at once from one sort of the scores: O(B·n) array work instead of B calls
to ``sklearn.metrics.roc_auc_score``. All models share the same resamples (same seed), which
makes their bootstrap distributions paired, so CIs of AUC differences are meaningful too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

# Bootstrap rows per block: bounds the [block, n] multiplicity matrix to ~40 MB.
_BLOCK_ELEMENTS = 5_000_000


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC = P(score of a positive > score of a negative), ties counting 1/2.

    NaN when y has a single class.
    """
    y = np.asarray(y).ravel().astype(bool)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(np.asarray(score, dtype=np.float64).ravel())
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def weighted_auc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUC of each row of ``weights`` [B, n] (row multiplicities), ties counting 1/2.

    Equals :func:`roc_auc` on the data with row i repeated ``weights[b, i]`` times. Rows of
    ``weights`` with no positive or no negative weight give NaN.
    """
    y = np.asarray(y).ravel().astype(bool)
    score = np.asarray(score, dtype=np.float64).ravel()
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    order = np.argsort(score, kind="stable")
    s_sorted = score[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])  # tie groups
    w_sorted = weights[:, order]
    y_sorted = y[order]
    pos = np.add.reduceat(w_sorted * y_sorted, starts, axis=1)
    neg = np.add.reduceat(w_sorted * ~y_sorted, starts, axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    num = (pos * (neg_below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def bootstrap_weights(
    n: int, n_bootstrap: int, seed: int, groups: np.ndarray | None = None
) -> Iterator[np.ndarray]:
    """Yield blocks of resample multiplicities [b, n], seeded.

    Without ``groups`` rows are drawn (each block row sums to n). With ``groups`` (a cluster
    id per row) whole clusters are drawn with replacement, G of G, and every row gets its
    cluster's multiplicity: rows of one prompt component (repeated pairs included) enter or
    leave a resample together, so they are not counted as independent evidence.
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        codes, n_units = np.arange(n), n
    else:
        codes = np.unique(np.asarray(groups).ravel(), return_inverse=True)[1].ravel()
        if codes.size != n:
            raise ValueError(f"groups must have {n} entries, got {codes.size}")
        n_units = int(codes.max()) + 1 if n else 0
    block = max(1, _BLOCK_ELEMENTS // max(n, 1))
    for start in range(0, n_bootstrap, block):
        b = min(block, n_bootstrap - start)
        idx = rng.integers(0, n_units, size=(b, n_units))
        flat = (idx + n_units * np.arange(b)[:, None]).ravel()
        unit_w = np.bincount(flat, minlength=b * n_units).reshape(b, n_units)
        yield unit_w if groups is None else unit_w[:, codes]


@dataclass(frozen=True)
class AucEstimate:
    """Point AUC on the validation rows with a percentile bootstrap interval."""

    auc: float
    ci_low: float
    ci_high: float
    samples: np.ndarray  # the bootstrap AUCs (NaN for degenerate resamples)


def bootstrap_aucs(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    n_bootstrap: int,
    seed: int,
    level: float = 0.95,
    groups: np.ndarray | None = None,
) -> dict[str, AucEstimate]:
    """Point AUC and percentile bootstrap CI for several score vectors on the same rows.

    Every model sees the same resamples. Resamples with a single class are skipped (NaN).
    ``groups`` (cluster id per row) makes it a cluster bootstrap (:func:`bootstrap_weights`).
    """
    y = np.asarray(y).ravel()
    n = y.size
    samples = {name: np.empty(0) for name in scores}
    if n_bootstrap > 0 and n > 0:
        parts: dict[str, list[np.ndarray]] = {name: [] for name in scores}
        for w in bootstrap_weights(n, n_bootstrap, seed, groups):
            for name, s in scores.items():
                parts[name].append(weighted_auc(y, s, w))
        samples = {name: np.concatenate(p) for name, p in parts.items()}
    alpha = (1.0 - level) / 2.0
    out = {}
    for name, s in scores.items():
        boot = samples[name]
        finite = boot[np.isfinite(boot)]
        lo, hi = np.quantile(finite, [alpha, 1.0 - alpha]) if finite.size else (np.nan, np.nan)
        out[name] = AucEstimate(roc_auc(y, s), float(lo), float(hi), boot)
    return out
