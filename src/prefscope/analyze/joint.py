"""Joint logistic regression: every tested feature and the controls in one model.

The per-feature (WIMHF) model fits ``label ~ controls + x_j`` one feature at a time. When
several concepts add words, holding length fixed hands a concept without any effect of its
own the effects of the others (at a fixed length difference, its words mean fewer words of
the rewarded concepts), so a zero-weight feature can look significant. Fitting all features
together estimates each one *holding the others fixed* as well, which removes that bias when
the truly rewarded features are in the model. The price is variance (collinear features
share credit), so both are reported side by side.

Columns are standardized (coefficients in log-odds per SD, as in
:func:`prefscope.analyze.logit.controlled_logit`); the fit is Newton's method with step
halving on one ``(1 + c + m)``-parameter problem. Standard errors are model-based, or
cluster-robust when cluster ids are given (:func:`prefscope.analyze.logit.cluster_sandwich`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import stats

from prefscope.analyze.logit import (
    _MAX_COND,
    _SATURATED_ETA,
    Z95,
    _check_binary,
    _cluster_codes,
    _logistic_state,
    cluster_sandwich,
    standardize,
)

log = logging.getLogger("prefscope.analyze")


@dataclass(frozen=True)
class JointResult:
    """Coefficients of the features (shape (m,)); NaN where a column was constant or the
    whole fit failed (``status`` says which: ok, separated, singular, not_converged)."""

    coef: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    control_coef: np.ndarray
    n: int
    status: str
    n_iter: int
    clustered: bool


def joint_logit(
    y: np.ndarray,
    x: np.ndarray,
    controls: np.ndarray | None = None,
    *,
    groups: np.ndarray | None = None,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> JointResult:
    """Logit of ``y`` on const + standardized controls + all standardized columns of ``x``."""
    y = _check_binary(y)
    n = y.size
    if n == 0 or y.min() == y.max():
        raise ValueError("y needs both classes to fit a logistic regression")
    xs = np.asarray(x, dtype=np.float64).reshape(n, -1)
    cs = np.empty((n, 0)) if controls is None else np.asarray(controls, float).reshape(n, -1)
    m, c = xs.shape[1], cs.shape[1]
    xz, _, sd = standardize(xs)
    cz, _, csd = standardize(cs)
    if (csd == 0).any():
        raise ValueError("control column(s) are constant")
    live = np.flatnonzero(sd > 0)
    design = np.column_stack([np.ones(n), cz, xz[:, live]])
    beta, cov, status, it = _newton(y, design, tol, max_iter)
    if groups is not None and status == "ok":
        mu, _, _ = _logistic_state(y, (design @ beta)[:, None])
        scores = design * (y - mu[:, 0])[:, None]
        cov = cluster_sandwich(scores, cov, _cluster_codes(groups, n))
    coef = np.full(m, np.nan)
    se = np.full(m, np.nan)
    if status == "ok":
        coef[live] = beta[1 + c :]
        se[live] = np.sqrt(np.diag(cov)[1 + c :])
    else:
        log.warning("joint logit (%d features, %d rows): %s", live.size, n, status)
    z = coef / se
    return JointResult(
        coef=coef,
        se=se,
        z=z,
        p=2.0 * stats.norm.sf(np.abs(z)),
        ci_low=coef - Z95 * se,
        ci_high=coef + Z95 * se,
        control_coef=beta[1 : 1 + c] if status == "ok" else np.full(c, np.nan),
        n=n,
        status=status,
        n_iter=it,
        clustered=groups is not None,
    )


def _newton(
    y: np.ndarray, design: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, str, int]:
    """MLE with step halving; returns (beta, inverse Hessian, status, iterations)."""
    p = design.shape[1]
    beta = np.zeros(p)
    ybar = y.mean()
    beta[0] = np.log(ybar / (1 - ybar))
    mu, w, ll = _logistic_state(y, (design @ beta)[:, None])
    nan_cov = np.full((p, p), np.nan)
    for it in range(1, max_iter + 1):
        hess = (design * w).T @ design
        if np.linalg.cond(hess) > _MAX_COND:
            eta = design @ beta
            sat = np.abs(eta).max() > _SATURATED_ETA
            return beta, nan_cov, "separated" if sat else "singular", it
        step = np.linalg.solve(hess, design.T @ (y - mu[:, 0]))
        scale = 1.0
        for _ in range(30):
            mu_new, w_new, ll_new = _logistic_state(y, (design @ (beta + scale * step))[:, None])
            if ll_new[0] >= ll[0] - 1e-10 * abs(ll[0]):
                break
            scale *= 0.5
        beta = beta + scale * step
        mu, w, ll = mu_new, w_new, ll_new
        if np.abs(scale * step).max() < tol:
            hess = (design * w).T @ design
            return beta, np.linalg.inv(hess), "ok", it
        if it >= 25 and np.abs(design @ beta).max() > _SATURATED_ETA:
            return beta, nan_cov, "separated", it
    return beta, nan_cov, "not_converged", max_iter
