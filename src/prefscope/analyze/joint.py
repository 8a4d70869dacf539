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
cluster-robust when cluster ids are given (:func:`prefscope.analyze.logistic.cluster_sandwich`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import stats

from prefscope.analyze.auc import bootstrap_weights
from prefscope.analyze.logistic import (
    MAX_COND,
    SATURATED_ETA,
    Z95,
    check_binary,
    cluster_codes,
    cluster_sandwich,
    logistic_state,
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
    boot_ci_low: np.ndarray  # percentile (cluster) bootstrap CI; NaN without bootstrap
    boot_ci_high: np.ndarray
    n_bootstrap: int  # resamples whose refit succeeded


def joint_logit(
    y: np.ndarray,
    x: np.ndarray,
    controls: np.ndarray | None = None,
    *,
    groups: np.ndarray | None = None,
    tol: float = 1e-9,
    max_iter: int = 100,
    n_bootstrap: int = 0,
    seed: int = 0,
) -> JointResult:
    """Logit of ``y`` on const + standardized controls + all standardized columns of ``x``.

    With ``n_bootstrap`` > 0 the coefficients also get percentile CIs from refits on
    bootstrap resamples, of whole ``groups`` when given (see
    :func:`prefscope.analyze.auc.bootstrap_weights`), columns standardized once on the full
    sample."""
    y = check_binary(y)
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
    boot_lo = np.full(m, np.nan)
    boot_hi = np.full(m, np.nan)
    n_boot_ok = 0
    if n_bootstrap > 0 and status == "ok":
        lo, hi, n_boot_ok = _bootstrap(y, design, beta, groups, n_bootstrap, seed, tol)
        boot_lo[live], boot_hi[live] = lo[1 + c :], hi[1 + c :]
    if groups is not None and status == "ok":
        mu, _, _ = logistic_state(y, (design @ beta)[:, None])
        scores = design * (y - mu[:, 0])[:, None]
        cov = cluster_sandwich(scores, cov, cluster_codes(groups, n))
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
        boot_ci_low=boot_lo,
        boot_ci_high=boot_hi,
        n_bootstrap=n_boot_ok,
    )


def _bootstrap(
    y: np.ndarray,
    design: np.ndarray,
    beta: np.ndarray,
    groups: np.ndarray | None,
    n_bootstrap: int,
    seed: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Percentile 95% CIs of every coefficient over (cluster) bootstrap refits, each started
    at the full-sample MLE; resamples whose fit fails (separation) are left out."""
    draws = []
    for block in bootstrap_weights(y.size, n_bootstrap, seed, groups):
        for mult in block:
            b, _, st, _ = _newton(y, design, max(tol, 1e-7), 50, mult=mult, start=beta)
            if st == "ok":
                draws.append(b)
    if not draws:
        nan = np.full(beta.size, np.nan)
        return nan, nan, 0
    lo, hi = np.quantile(np.array(draws), [0.025, 0.975], axis=0)
    return lo, hi, len(draws)


def _newton(
    y: np.ndarray,
    design: np.ndarray,
    tol: float,
    max_iter: int,
    mult: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, str, int]:
    """MLE with step halving; returns (beta, inverse Hessian, status, iterations).

    ``mult`` are row multiplicities (a bootstrap resample), ``start`` a starting point."""
    p = design.shape[1]
    mult = np.ones(y.size) if mult is None else np.asarray(mult, dtype=np.float64)
    if start is None:
        beta = np.zeros(p)
        ybar = (mult * y).sum() / mult.sum()
        beta[0] = np.log(ybar / (1 - ybar))
    else:
        beta = np.array(start, dtype=np.float64)

    def state(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        mu, w, _ = logistic_state(y, (design @ b)[:, None])
        eta = design @ b
        ll = float(mult @ (y * eta - np.maximum(eta, 0) - np.log1p(np.exp(-np.abs(eta)))))
        return mu[:, 0], w[:, 0] * mult, ll

    mu, w, ll = state(beta)
    nan_cov = np.full((p, p), np.nan)
    for it in range(1, max_iter + 1):
        hess = (design * w[:, None]).T @ design
        if np.linalg.cond(hess) > MAX_COND:
            eta = design @ beta
            sat = np.abs(eta).max() > SATURATED_ETA
            return beta, nan_cov, "separated" if sat else "singular", it
        step = np.linalg.solve(hess, design.T @ (mult * (y - mu)))
        scale = 1.0
        for _ in range(30):
            mu_new, w_new, ll_new = state(beta + scale * step)
            if ll_new >= ll - 1e-10 * abs(ll):
                break
            scale *= 0.5
        beta = beta + scale * step
        mu, w, ll = mu_new, w_new, ll_new
        if np.abs(scale * step).max() < tol:
            hess = (design * w[:, None]).T @ design
            return beta, np.linalg.inv(hess), "ok", it
        if it >= 25 and np.abs(design @ beta).max() > SATURATED_ETA:
            return beta, nan_cov, "separated", it
    return beta, nan_cov, "not_converged", max_iter
