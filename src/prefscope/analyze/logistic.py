"""Numerics shared by the logistic fits (:mod:`prefscope.analyze.logit`, one model per
feature; :mod:`prefscope.analyze.joint`, all features in one model): input checks,
standardization, the fitted state from one ``exp``, batched solves and cluster-robust
covariances.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))

# |linear predictor| beyond which a fitted probability is within 2e-9 of 0 or 1: a fit that
# has not converged and has such rows is separated (the MLE does not exist).
SATURATED_ETA = 20.0
# A Hessian this ill-conditioned means x is collinear with the controls, or all weights vanished.
MAX_COND = 1e12


def standardize(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-standardize (population SD); columns with SD 0 are returned centred, SD = 0."""
    a = np.asarray(a, dtype=np.float64)
    mean = a.mean(axis=0)
    sd = a.std(axis=0)
    safe = np.where(sd > 0, sd, 1.0)
    return (a - mean) / safe, mean, sd


def as_2d(a: np.ndarray | None, n: int, name: str) -> np.ndarray:
    if a is None:
        return np.empty((n, 0))
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def check_binary(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64).ravel()
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must contain only 0 and 1")
    return y


def logistic_state(
    y: np.ndarray, eta: np.ndarray, mult: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted probabilities, IRLS weights and log-likelihood per column from one ``exp``.

    ``np.logaddexp`` and ``expit`` each cost several times a plain ``exp`` on large arrays, and
    they dominate the run time, so both are derived from ``e = exp(-|eta|)``. ``mult`` (row
    multiplicities of a bootstrap resample) scales the weights and the log-likelihood.
    """
    e = np.exp(-np.abs(eta))
    inv = 1.0 / (1.0 + e)
    mu = np.where(eta >= 0, inv, e * inv)
    w = e * inv * inv
    ones = np.ones(eta.shape[0]) if mult is None else mult
    if mult is not None:
        w *= mult[:, None]
        y = y * mult
    ll = y @ eta - ones @ np.maximum(eta, 0.0) - ones @ np.log1p(e)
    return mu, w, ll


def colsum(a: np.ndarray) -> np.ndarray:
    return np.ones(a.shape[0]) @ a  # a BLAS pass, several times faster than a.sum(axis=0)


def batched_solve(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve a[i] @ x[i] = b[i]; ill-conditioned systems come back as 0, flagged False."""
    ok = np.linalg.cond(a) < MAX_COND
    out = np.zeros_like(b)
    if ok.any():
        out[ok] = np.linalg.solve(a[ok], b[ok][..., None])[..., 0]
    return out, ok


def cluster_codes(groups: np.ndarray, n: int) -> np.ndarray:
    """Cluster ids as 0..G-1 (any hashable labels in, one per row)."""
    groups = np.asarray(groups).ravel()
    if groups.size != n:
        raise ValueError(f"groups must have {n} entries, got {groups.size}")
    return np.unique(groups, return_inverse=True)[1].ravel()


def cluster_sandwich(scores: np.ndarray, bread: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Cluster-robust covariance ``G/(G-1) * bread @ (sum_g u_g u_g^T) @ bread``.

    ``scores`` [n, ..., p] are the per-row score contributions x_i (y_i - mu_i), ``bread``
    [..., p, p] the inverse Hessian, ``codes`` the cluster id of each row (0..G-1). Summing
    the scores within a cluster first is what makes repeated rows one piece of evidence:
    duplicating every row (within its cluster) doubles both the Hessian and each u_g and
    leaves the covariance unchanged. Only the G/(G-1) small-sample factor is applied, so
    that stays exact.
    """
    n_groups = int(codes.max()) + 1
    if n_groups < 2:
        return np.full_like(bread, np.nan)
    u = np.zeros((n_groups, *scores.shape[1:]))
    np.add.at(u, codes, scores)
    meat = np.einsum("g...i,g...j->...ij", u, u)
    return n_groups / (n_groups - 1) * bread @ meat @ bread
