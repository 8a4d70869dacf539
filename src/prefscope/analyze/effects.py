"""Per-feature label effects on all labeled rows: the per-feature (WIMHF) controlled logit,
the joint logit of all tested features, BH q-values over the tested features, Δ win rates.
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl

from prefscope.analyze.fdr import bh_fdr
from prefscope.analyze.inputs import AnalysisData
from prefscope.analyze.joint import JointResult, joint_logit
from prefscope.analyze.logit import controlled_logit
from prefscope.analyze.winrate import prevalence, win_rates

log = logging.getLogger("prefscope.analyze")


def _gated_q(p: np.ndarray, tested: np.ndarray) -> np.ndarray:
    """BH q-values over the tested features only; NaN for the others (never tested)."""
    q = np.full(p.shape, np.nan)
    q[tested] = bh_fdr(p[tested])
    return q


# Work (rows x parameters^2) of one Newton step above which the joint model's bootstrap
# refits are skipped: ~20 s per refit at this size; the cluster-robust Wald CI remains.
_MAX_BOOTSTRAP_WORK = 2e10
# rows x features x resamples beyond which the per-feature bootstrap is skipped (the demo's
# 2676 x 32 x 200 = 1.7e7 takes about 2 s on one core, so this is a few minutes)
_MAX_FEATURE_BOOTSTRAP_WORK = 2e9


def joint_effects(
    data: AnalysisData, n_bootstrap: int = 0, seed: int = 0
) -> tuple[dict[str, np.ndarray], JointResult | None]:
    """Joint logit of all tested features plus controls on all labeled rows (columns [M]),
    with (cluster) bootstrap CIs from ``n_bootstrap`` refits; the fit is None when no
    feature is tested."""
    rows = data.labeled
    tested = data.tested_mask()
    cols = np.flatnonzero(tested)
    m = data.codes.shape[1]
    keys = ("coef", "se", "z", "p", "ci_low", "ci_high", "boot_ci_low", "boot_ci_high", "q")
    out = {k: np.full(m, np.nan) for k in keys}
    if cols.size == 0:
        return {f"joint_{k}": v for k, v in out.items()}, None
    log.info(
        "joint logit: %d features + %d controls in one model", cols.size, data.controls.shape[1]
    )
    work = float(rows.sum()) * (1 + data.controls.shape[1] + cols.size) ** 2
    if n_bootstrap and work > _MAX_BOOTSTRAP_WORK:
        log.warning("joint model too large for %d bootstrap refits: Wald CIs only", n_bootstrap)
        n_bootstrap = 0
    fit = joint_logit(
        data.y[rows].astype(np.float64),
        data.codes[rows][:, cols],
        data.controls[rows],
        groups=None if data.groups is None else data.groups[rows],
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    for k in keys[:-1]:
        out[k][cols] = getattr(fit, k)
    out["q"] = _gated_q(out["p"], tested & np.isfinite(out["p"]))
    return {f"joint_{k}": v for k, v in out.items()}, fit


def feature_table(
    data: AnalysisData, fdr_q: float, n_bootstrap_effects: int = 0, seed: int = 0
) -> pl.DataFrame:
    """One row per SAE feature: per-feature (WIMHF) controlled logit, joint logit, BH q over
    the tested features, Δ win rate, prevalence, and the flag ``significance_differs``."""
    return feature_table_and_joint(data, fdr_q, n_bootstrap_effects, seed)[0]


def feature_table_and_joint(
    data: AnalysisData, fdr_q: float, n_bootstrap_effects: int = 0, seed: int = 0
) -> tuple[pl.DataFrame, JointResult | None]:
    """:func:`feature_table` and the joint fit itself (its status goes to the summary)."""
    rows = data.labeled
    y = data.y[rows].astype(np.float64)
    z = data.codes[rows]
    m = z.shape[1]
    log.info("controlled logit for %d features on %d labeled rows", m, y.size)
    groups = None if data.groups is None else data.groups[rows]
    n_boot = n_bootstrap_effects
    if n_boot and float(y.size) * m * n_boot > _MAX_FEATURE_BOOTSTRAP_WORK:
        log.warning("too many features x rows for %d per-feature bootstrap refits", n_boot)
        n_boot = 0
    fit = controlled_logit(y, z, data.controls[rows], groups=groups, n_bootstrap=n_boot, seed=seed)
    tested = data.tested_mask()
    q = _gated_q(fit.p, tested)
    joint, joint_fit = joint_effects(data, n_bootstrap_effects, seed)
    sig = np.nan_to_num(q, nan=1.0) < fdr_q
    joint_sig = np.nan_to_num(joint["joint_q"], nan=1.0) < fdr_q
    wins = win_rates(y, z)
    return pl.DataFrame(
        {
            "feature": np.arange(m, dtype=np.int64),
            "coef": fit.coef,
            "se": fit.se,
            "z": fit.z,
            "p": fit.p,
            "ci_low": fit.ci_low,
            "ci_high": fit.ci_high,
            "boot_ci_low": fit.boot_ci_low,
            "boot_ci_high": fit.boot_ci_high,
            "q": q,
            "significant": sig,
            "status": fit.status,
            "win_rate": wins.win_rate,
            "delta_win_rate": wins.delta_win_rate,
            "win_p": wins.p,
            "n_active": wins.n_active,
            "prevalence": prevalence(data.codes),
            "n": np.full(m, fit.n, dtype=np.int64),
            "tested": tested,
            "unexplained": ~tested,
            **joint,
            "joint_significant": joint_sig,
            "significance_differs": tested & (sig != joint_sig),
        }
    ).with_columns(pl.col(pl.Float64).fill_nan(None)), joint_fit
