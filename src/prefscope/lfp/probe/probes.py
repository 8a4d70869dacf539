"""Probes on the feedback signal implicit in SAE codes.

**VADER (Ridge).** Targets are the activation deltas (``Δ+ > 0``, ``Δ− < 0``). Predictions
are mapped to the lexicon range by a *sign-preserving* piecewise-linear scale fitted on the
training predictions: positive predictions are scaled so that their 90th percentile lands on
the lexicon maximum, negative ones so that their 10th percentile lands on the lexicon
minimum, then clipped to the range. (The reference min-max scaled between the 10th and 90th
percentiles, which moves zero and so changes which words get the right sign.) The scale is
monotone, so Kendall tau is unaffected by it. The baseline is the same linear map with
untrained Xavier-uniform weights and zero bias, passed through the same scaling and
per-word averaging.

**Preference pairs (logistic).** Chosen = 1, rejected = 0; accuracy on held-out pairs.

**Splits.** Seeded, by *group*: a VADER word, or a preference pair, is never in both train
and test, so the probe cannot pass by memorising a word's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prefscope.errors import InputError


@dataclass(frozen=True)
class ProbeConfig:
    test_fraction: float = 0.2
    ridge_alpha: float = 1.0
    logistic_c: float = 1.0
    scale_quantile: float = 0.9
    n_boot: int = 1000
    seed: int = 0


def group_split(groups: Sequence[object], test_fraction: float, seed: int) -> np.ndarray:
    """Boolean test mask assigning whole groups (words, pair ids) to test, seeded."""
    unique = sorted({str(g) for g in groups})
    if len(unique) < 2:
        raise InputError(f"need at least 2 groups to split, got {len(unique)}")
    rng = np.random.default_rng(seed)
    n_test = min(len(unique) - 1, max(1, round(test_fraction * len(unique))))
    test_groups = set(rng.permutation(unique)[:n_test].tolist())
    return np.array([str(g) in test_groups for g in groups], dtype=bool)


class SignPreservingScale:
    """Map raw predictions to ``[lo, hi]`` keeping their sign (see module docstring)."""

    def __init__(self, lo: float, hi: float, quantile: float = 0.9) -> None:
        if not lo < 0 < hi:
            raise InputError(f"target range must straddle 0, got ({lo}, {hi})")
        self.lo, self.hi, self.quantile = lo, hi, quantile
        self.pos_scale = 1.0
        self.neg_scale = 1.0

    def fit(self, raw: np.ndarray) -> SignPreservingScale:
        pos, neg = raw[raw > 0], -raw[raw < 0]
        if pos.size:
            self.pos_scale = self.hi / max(float(np.quantile(pos, self.quantile)), 1e-12)
        if neg.size:
            self.neg_scale = -self.lo / max(float(np.quantile(neg, self.quantile)), 1e-12)
        return self

    def transform(self, raw: np.ndarray) -> np.ndarray:
        out = np.where(raw > 0, raw * self.pos_scale, raw * self.neg_scale)
        return np.clip(out, self.lo, self.hi)


def fit_ridge(x: np.ndarray, y: np.ndarray, alpha: float):
    """Ridge on sparse codes (CSR keeps it fast on wide, mostly-zero inputs)."""
    from scipy import sparse
    from sklearn.linear_model import Ridge

    return Ridge(alpha=alpha).fit(sparse.csr_matrix(x), y)


def xavier_weights(n_in: int, seed: int) -> np.ndarray:
    """Untrained ``nn.Linear(n_in, 1)`` weights under Xavier-uniform init: U(±√(6/(n_in+1)))."""
    bound = float(np.sqrt(6.0 / (n_in + 1)))
    return np.random.default_rng(seed).uniform(-bound, bound, size=n_in)


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float, seed: int):
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(sparse.csr_matrix(x), y)


def pca_2d(x: np.ndarray, seed: int) -> tuple[np.ndarray, list[float]]:
    """First two principal components of the probe inputs and their explained-variance ratios."""
    from sklearn.decomposition import PCA

    n_comp = min(2, x.shape[0], x.shape[1])
    pca = PCA(n_components=n_comp, random_state=seed).fit(x)
    proj = pca.transform(x)
    if n_comp < 2:
        proj = np.column_stack([proj, np.zeros(len(proj))])
    return proj, [float(v) for v in pca.explained_variance_ratio_]
