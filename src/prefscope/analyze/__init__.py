"""Label statistics of SAE features (branch W): which features predict the preference label.

Per feature: a length-controlled logistic regression (coefficient, SE, p, 95% CI), the Δ win
rate with an exact binomial test, and Benjamini–Hochberg q-values. Jointly: a controlled Lasso
(controls unpenalized) tuned to exactly k features, and held-out ROC-AUCs with bootstrap CIs
for controls only, the embedding probe, all SAE features and the Lasso subsets.
"""

from prefscope.analyze.auc import AucEstimate, bootstrap_aucs, roc_auc, weighted_auc
from prefscope.analyze.fdr import bh_fdr
from prefscope.analyze.inputs import AnalyzeSettings
from prefscope.analyze.lasso import ControlledLasso, LassoFit, LassoSubset, lasso_subsets
from prefscope.analyze.logit import LogitResult, controlled_logit
from prefscope.analyze.probe import ProbeConfig, ProbeFit, fit_probe
from prefscope.analyze.winrate import WinRateResult, prevalence, win_rates

__all__ = [
    "AnalyzeSettings",
    "AucEstimate",
    "ControlledLasso",
    "LassoFit",
    "LassoSubset",
    "LogitResult",
    "ProbeConfig",
    "ProbeFit",
    "WinRateResult",
    "bh_fdr",
    "bootstrap_aucs",
    "controlled_logit",
    "fit_probe",
    "lasso_subsets",
    "prevalence",
    "roc_auc",
    "weighted_auc",
    "win_rates",
]
