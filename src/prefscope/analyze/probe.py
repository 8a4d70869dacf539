"""Held-out probes: standardized L2 logistic regression with C chosen by internal CV.

One recipe for every model in the AUC table (controls only, embedding difference, all SAE
features, Lasso subsets), so differences in AUC come from the inputs, not from the fitting.
C is picked on the training rows only, by stratified K-fold held-out log-loss over a short
grid (a proper scoring rule is steadier than AUC on small folds); warm starts along the grid
keep it cheap. The scaler is fitted inside each fold so no validation statistics leak.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

log = logging.getLogger("prefscope.analyze")


@dataclass(frozen=True)
class ProbeConfig:
    """Grid of inverse L2 strengths (per standardized column) and CV folds."""

    cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
    folds: int = 3
    max_iter: int = 1000


@dataclass(frozen=True)
class ProbeFit:
    model: Pipeline | None  # None: no predictors, the score is constant
    c: float
    cv_log_loss: dict[float, float]

    def score(self, x: np.ndarray) -> np.ndarray:
        """Log-odds that A is preferred (constant when the probe has no predictors)."""
        if self.model is None or x.shape[0] == 0:
            return np.zeros(x.shape[0])
        return self.model.decision_function(x)


def _logreg(c: float, max_iter: int, warm: bool = False) -> LogisticRegression:
    # sklearn 1.9 deprecates ``penalty=``; l1_ratio=0 (the default) is the L2 penalty.
    return LogisticRegression(C=c, l1_ratio=0.0, max_iter=max_iter, warm_start=warm)


def fit_probe(x: np.ndarray, y: np.ndarray, config: ProbeConfig, seed: int) -> ProbeFit:
    """Fit the L2 probe on (x, y), choosing C by internal stratified CV."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y).ravel().astype(int)
    if x.shape[1] == 0:
        return ProbeFit(None, float("nan"), {})
    minority = int(min(y.sum(), y.size - y.sum()))
    folds = min(config.folds, minority)
    losses: dict[float, float] = {}
    if len(config.cs) > 1 and folds >= 2:
        totals = np.zeros(len(config.cs))
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        for tr, te in cv.split(x, y):
            scaler = StandardScaler().fit(x[tr])
            xtr, xte = scaler.transform(x[tr]), scaler.transform(x[te])
            clf = _logreg(config.cs[0], config.max_iter, warm=True)
            for i, c in enumerate(sorted(config.cs)):
                clf.set_params(C=c)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf.fit(xtr, y[tr])
                totals[i] += log_loss(y[te], clf.predict_proba(xte), labels=[0, 1]) * te.size
        losses = {c: float(t / y.size) for c, t in zip(sorted(config.cs), totals, strict=True)}
        best = min(losses, key=losses.__getitem__)
    else:
        best = config.cs[len(config.cs) // 2]
    model = make_pipeline(StandardScaler(), _logreg(best, config.max_iter))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, y)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        log.warning("probe with %d columns: lbfgs hit max_iter=%d", x.shape[1], config.max_iter)
    return ProbeFit(model, float(best), losses)
