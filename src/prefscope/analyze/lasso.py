"""Controlled Lasso: L1 logistic regression with unpenalized controls, tuned to k features.

Objective, on standardized columns (controls C and features F), intercept b0::

    (1/n) sum_i [log(1 + exp(eta_i)) - y_i eta_i] + lam * ||beta_F||_1,
    eta = b0 + C beta_C + F beta_F

Why our own solver: scikit-learn's ``LogisticRegression`` penalizes every column alike. The
usual workaround, multiplying the controls by a large constant so their L1 cost becomes
negligible, only approximates "unpenalized", and the huge column scale slows liblinear/saga
convergence; neither is acceptable for a selection whose point is that length never competes
with the features. The solver here is the glmnet algorithm (Friedman, Hastie & Tibshirani
2010, J. Stat. Softw. 33(1)): an outer IRLS quadratic approximation of the log-likelihood,
an inner cyclic coordinate descent with soft-thresholding, and per-column penalty factors
(0 for the controls and the intercept, so they are never shrunk or dropped). Coordinate
descent runs only over the active set; one BLAS product ``A.T @ r`` then checks the KKT
conditions of every zero coefficient and adds violators, so a fit at one penalty costs a few
matrix-vector products even with ~1000 features. To hit exactly k features we walk down a
geometric penalty path from lambda_max with warm starts and then bisect log(lambda) inside the
bracket where the count passes k, so every fit stays small (80k rows x 1000 features: ~2 s
per k on one thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from prefscope.analyze.logistic import standardize

log = logging.getLogger("prefscope.analyze")

_MIN_WEIGHT = 1e-5  # IRLS weight floor (glmnet's), keeps saturated rows from stalling CD
_PATH_RATIO = 0.7  # geometric step down the penalty path before bisecting
_MIN_LAMBDA_RATIO = 1e-4  # smallest penalty tried, as a fraction of lambda_max


@dataclass(frozen=True)
class LassoFit:
    """One solution on standardized columns: ``coef`` is controls first, then features."""

    lam: float
    intercept: float
    coef: np.ndarray
    n_controls: int

    @property
    def feature_coef(self) -> np.ndarray:
        return self.coef[self.n_controls :]

    @property
    def control_coef(self) -> np.ndarray:
        return self.coef[: self.n_controls]

    @property
    def n_selected(self) -> int:
        return int(np.count_nonzero(self.feature_coef))


@dataclass(frozen=True)
class LassoSubset:
    """The penalty path point chosen for a target size ``k``.

    ``features`` are column indices into the feature matrix, ordered by |coef| (largest
    first); ``exact`` is False when no penalty gave exactly k features and the closest point
    with fewer was taken.
    """

    k: int
    features: list[int]
    coefs: list[float]
    control_coefs: list[float]
    lam: float
    exact: bool
    fit: LassoFit = field(repr=False)


class ControlledLasso:
    """L1 logistic regression of ``y`` on ``features`` with unpenalized ``controls``.

    Both blocks are standardized (population SD) once at construction; constant feature
    columns stay all-zero and can never be selected. Constant controls must be removed first.
    ``null_fit`` is the controls-only MLE; ``lambda_max`` the smallest penalty at which no
    feature enters.
    """

    def __init__(
        self,
        y: np.ndarray,
        features: np.ndarray,
        controls: np.ndarray | None = None,
        *,
        tol: float = 1e-8,
        max_outer: int = 100,
    ) -> None:
        self.y = np.asarray(y, dtype=np.float64).ravel()
        if not np.isin(self.y, (0.0, 1.0)).all() or self.y.min() == self.y.max():
            raise ValueError("y must be 0/1 with both classes present")
        n = self.y.size
        feats = np.asarray(features)
        ctrl = np.empty((n, 0)) if controls is None else np.asarray(controls, dtype=np.float64)
        ctrl = ctrl[:, None] if ctrl.ndim == 1 else ctrl
        ctrl, _, c_sd = standardize(ctrl)
        if (c_sd == 0).any():
            raise ValueError("constant control columns cannot be fitted; drop them first")
        self.n_controls = ctrl.shape[1]
        self.n_features = feats.shape[1]
        self.a = _standardized_design(ctrl, feats)
        self.n_usable = int(np.count_nonzero(self.a[:, self.n_controls :].any(axis=0)))
        self.penalty = np.r_[np.zeros(self.n_controls), np.ones(self.n_features)]
        self.tol, self.max_outer = tol, max_outer
        self.null_fit = self.fit(np.inf)
        r = self.y - _expit(self._eta(self.null_fit.intercept, self.null_fit.coef))
        grad = np.abs(self.a.T @ r) / n
        self.lambda_max = float(grad[self.n_controls :].max(initial=0.0))

    def _eta(self, b0: float, beta: np.ndarray) -> np.ndarray:
        nz = np.flatnonzero(beta)  # a handful of columns: far cheaper than the full product
        return b0 + self.a[:, nz] @ beta[nz]

    def _objective(self, b0: float, beta: np.ndarray, lam: float) -> float:
        eta = self._eta(b0, beta)
        nll = np.mean(np.logaddexp(0.0, eta) - self.y * eta)
        pen = 0.0 if np.isinf(lam) else lam * np.abs(beta[self.penalty > 0]).sum()
        return float(nll + pen)

    def fit(self, lam: float, warm: LassoFit | None = None) -> LassoFit:
        """Minimise the objective at penalty ``lam`` (``inf`` fits the controls alone)."""
        p = self.a.shape[1]
        thresh = np.where(self.penalty > 0, lam, 0.0)
        if warm is None:
            ybar = self.y.mean()
            b0, beta = float(np.log(ybar / (1 - ybar))), np.zeros(p)
        else:
            b0, beta = warm.intercept, warm.coef.copy()
        obj = self._objective(b0, beta, lam)
        for _ in range(self.max_outer):
            eta = self._eta(b0, beta)
            mu = _expit(eta)
            w = np.maximum(mu * (1.0 - mu), _MIN_WEIGHT)
            b0_new, beta_new = self._weighted_lasso(w, self.y - mu, b0, beta.copy(), thresh)
            # Damped IRLS: halve the move until the penalized objective does not increase.
            for _ in range(30):
                obj_new = self._objective(b0_new, beta_new, lam)
                if obj_new <= obj + 1e-12 * abs(obj):
                    break
                b0_new, beta_new = (b0 + b0_new) / 2, (beta + beta_new) / 2
            delta = max(abs(b0_new - b0), float(np.abs(beta_new - beta).max(initial=0.0)))
            b0, beta, obj = b0_new, beta_new, obj_new
            if delta < 1e-7:
                break
        else:
            log.warning("controlled lasso: IRLS did not converge at lambda=%.3g", lam)
        return LassoFit(float(lam), float(b0), beta, self.n_controls)

    def _weighted_lasso(
        self, w: np.ndarray, resid: np.ndarray, b0: float, beta: np.ndarray, thresh: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Coordinate descent on (1/2n) sum w (z - b0 - A beta)^2 + sum thresh |beta|.

        ``r = w * (z - eta)`` is kept up to date; at the IRLS point it equals ``y - mu``.
        """
        a, n = self.a, self.y.size
        r = resid.copy()
        w_sum = w.sum()
        active = np.flatnonzero((beta != 0) | (thresh == 0))
        xv = np.zeros(beta.size)  # weighted squared norms, computed for active columns only
        xv[active] = w @ a[:, active] ** 2 / n
        for _ in range(1000):
            for _ in range(1000):  # CD sweeps over the active set
                max_change = 0.0
                for j in active:
                    if xv[j] <= 0:
                        continue
                    col = a[:, j]
                    g = col @ r / n + xv[j] * beta[j]
                    new = np.sign(g) * max(abs(g) - thresh[j], 0.0) / xv[j]
                    d = new - beta[j]
                    if d != 0.0:
                        r -= (d * w) * col
                        beta[j] = new
                        max_change = max(max_change, xv[j] * d * d)
                d0 = r.sum() / w_sum
                b0 += d0
                r -= d0 * w
                max_change = max(max_change, w_sum / n * d0 * d0)
                if max_change < self.tol:
                    break
            # KKT check for every zero coefficient in one BLAS pass.
            grad = np.abs(a.T @ r) / n
            violators = np.flatnonzero((beta == 0) & (grad > thresh * (1 + 1e-9)))
            violators = np.setdiff1d(violators, active)
            if violators.size == 0:
                break
            xv[violators] = w @ a[:, violators] ** 2 / n
            active = np.union1d(active, violators)
        return b0, beta

    def select_k(self, k: int, max_steps: int = 60) -> LassoSubset:
        """Bisect log(lambda) for exactly ``k`` nonzero features (fewer if unreachable).

        ``k`` is capped at the number of non-constant feature columns.
        """
        k = int(min(k, self.n_usable))
        if k <= 0 or self.lambda_max == 0:
            return self._subset(0, self.null_fit, exact=k <= 0)
        # Walk down a geometric path from lambda_max (warm starts, small active sets) until
        # k is reached or passed, then bisect log(lambda) inside the last bracket. Starting
        # the bisection mid-range instead would fit dense, slow models at tiny penalties.
        best = self.null_fit  # largest selection with <= k features seen so far
        hi, lo = self.lambda_max, None
        lam = self.lambda_max
        steps = 0
        while lam > self.lambda_max * _MIN_LAMBDA_RATIO and steps < max_steps:
            lam *= _PATH_RATIO
            fit = self.fit(lam, best)
            steps += 1
            if fit.n_selected == k:
                return self._subset(k, fit, exact=True)
            if fit.n_selected > k:
                lo = lam
                break
            hi, best = lam, fit
        while lo is not None and steps < max_steps and hi / lo > 1 + 1e-9:
            mid = float(np.sqrt(lo * hi))
            fit = self.fit(mid, best)
            steps += 1
            if fit.n_selected == k:
                return self._subset(k, fit, exact=True)
            if fit.n_selected > k:
                lo = mid
            else:
                hi, best = mid, fit
        log.warning(
            "controlled lasso: no penalty selects exactly %d features; using %d", k, best.n_selected
        )
        return self._subset(k, best, exact=False)

    def _subset(self, k: int, fit: LassoFit, exact: bool) -> LassoSubset:
        fc = fit.feature_coef
        chosen = np.flatnonzero(fc)
        chosen = chosen[np.argsort(-np.abs(fc[chosen]), kind="stable")]
        return LassoSubset(
            k=k,
            features=[int(j) for j in chosen],
            coefs=[float(fc[j]) for j in chosen],
            control_coefs=[float(c) for c in fit.control_coef],
            lam=min(fit.lam, self.lambda_max),  # the null fit is stored at lambda = inf
            exact=exact,
            fit=fit,
        )


def _standardized_design(ctrl: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """[controls | standardized features] in Fortran order (coordinate descent reads columns).

    Filled block by block so a large float32 code matrix is converted without several
    full-size float64 temporaries. Constant feature columns become all-zero.
    """
    n, c = ctrl.shape
    p = feats.shape[1]
    a = np.empty((n, c + p), order="F")
    a[:, :c] = ctrl
    step = max(1, 2_000_000 // max(n, 1))
    for j in range(0, p, step):
        a[:, c + j : c + j + step] = standardize(feats[:, j : j + step])[0]
    return a


def _expit(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * eta))


def lasso_subsets(
    y: np.ndarray, features: np.ndarray, controls: np.ndarray | None, ks: list[int]
) -> dict[int, LassoSubset]:
    """Controlled-Lasso subsets for each target size in ``ks`` (one solver, warm data)."""
    solver = ControlledLasso(y, features, controls)
    return {int(k): solver.select_k(int(k)) for k in ks}
