"""Predictive models fitted on train labeled rows and scored by val ROC-AUC: controls only,
the embedding probe, all SAE features, the controlled-Lasso subsets, and external scores
such as the reward model's margin.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from prefscope.analyze.auc import bootstrap_aucs, roc_auc
from prefscope.analyze.inputs import AnalysisData, AnalyzeSettings, varying
from prefscope.analyze.lasso import LassoSubset, lasso_subsets
from prefscope.analyze.probe import ProbeConfig, fit_probe
from prefscope.errors import InputError

log = logging.getLogger("prefscope.analyze")


def _model_specs(
    data: AnalysisData, lasso: dict[int, LassoSubset]
) -> dict[str, tuple[np.ndarray | None, list[int] | None]]:
    """name -> (matrix appended to the controls, its columns or None for all)."""
    specs: dict[str, tuple[np.ndarray | None, list[int] | None]] = {"controls": (None, None)}
    if data.deltas is not None:
        specs["embedding"] = (data.deltas, None)
    specs["sae_all"] = (data.codes, None)
    for k, subset in lasso.items():
        specs[f"sae_lasso_top{k}"] = (data.codes, subset.features)
    return specs


def _design(
    data: AnalysisData, rows: np.ndarray, extra: np.ndarray | None, cols: list[int] | None
) -> np.ndarray:
    """[controls | extra columns] for the selected rows only (never the full N x M copy)."""
    blocks = [data.controls[rows]]
    if extra is not None:
        sub = extra[rows]
        blocks.append(sub if cols is None else sub[:, cols])
    return np.hstack(blocks).astype(np.float64, copy=False)


def _lasso_over(columns: np.ndarray, subsets: dict[int, LassoSubset]) -> dict[int, LassoSubset]:
    """Lasso subsets fitted on ``codes[:, columns]``, with feature ids mapped back."""
    return {
        k: dataclasses.replace(s, features=[int(columns[f]) for f in s.features])
        for k, s in subsets.items()
    }


def _fit_lasso(
    data: AnalysisData, settings: AnalyzeSettings, tr: np.ndarray
) -> tuple[dict[int, LassoSubset], list[str]]:
    """Controlled-Lasso subsets over the tested features on train rows, and the names of the
    controls that vary there (the ones it conditions on)."""
    lasso_controls = varying(data.controls, tr)
    tested = np.flatnonzero(data.tested_mask())
    log.info(
        "controlled lasso for k in %s on %d train rows, %d tested features",
        list(settings.lasso_top_k),
        tr.sum(),
        tested.size,
    )
    lasso = (
        _lasso_over(
            tested,
            lasso_subsets(
                data.y[tr],
                data.codes[tr][:, tested],
                data.controls[tr][:, lasso_controls],
                list(settings.lasso_top_k),
            ),
        )
        if tested.size
        else {}
    )
    lasso_control_names = [n for n, k in zip(data.control_names, lasso_controls, strict=True) if k]
    return lasso, lasso_control_names


def _fit_models(
    data: AnalysisData,
    settings: AnalyzeSettings,
    config: ProbeConfig,
    lasso: dict[int, LassoSubset],
    split: tuple[np.ndarray, np.ndarray],
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Fit every probe on the train rows: its table row, and its scores of the val rows."""
    tr, va = split
    y_tr, y_va = data.y[tr], data.y[va]
    scores_va: dict[str, np.ndarray] = {}
    table: dict[str, Any] = {}
    specs = _model_specs(data, lasso)
    for name, (extra, cols) in tqdm(specs.items(), desc="probes", unit="model"):
        x_tr = _design(data, tr, extra, cols)
        probe = fit_probe(x_tr, y_tr, config, settings.seed)
        scores_va[name] = probe.score(_design(data, va, extra, cols))
        n_ctrl = data.controls.shape[1]
        table[name] = {
            "train_auc": roc_auc(y_tr, probe.score(x_tr)),
            "n_features": x_tr.shape[1] - n_ctrl,
            "n_train": int(y_tr.size),
            "n_val": int(y_va.size),
            "C": probe.c,
        }
        log.info(
            "%s: %d columns, C=%g, train AUC %.3f",
            name,
            x_tr.shape[1],
            probe.c,
            table[name]["train_auc"],
        )
    return table, scores_va


def _add_val_aucs(
    table: dict[str, Any],
    data: AnalysisData,
    settings: AnalyzeSettings,
    va: np.ndarray,
    scores_va: dict[str, np.ndarray],
) -> None:
    """Val AUC with bootstrap CI per model, and its gain over the controls-only model."""
    y_va = data.y[va]
    if np.unique(y_va).size < 2:
        log.warning("val split: %d labeled rows, not both classes: val AUCs are NaN", y_va.size)
    groups_va = None if data.groups is None else data.groups[va]
    est = bootstrap_aucs(y_va, scores_va, settings.n_bootstrap, settings.seed, groups=groups_va)
    base = est["controls"].samples
    for name, e in est.items():
        gain = e.samples - base
        finite = gain[np.isfinite(gain)]
        lo, hi = np.quantile(finite, [0.025, 0.975]) if finite.size else (np.nan, np.nan)
        table[name].update(
            val_auc=e.auc,
            ci_low=e.ci_low,
            ci_high=e.ci_high,
            gain_over_controls={
                "val_auc": e.auc - est["controls"].auc,
                "ci_low": float(lo),
                "ci_high": float(hi),
            },
        )


def auc_table(
    data: AnalysisData,
    settings: AnalyzeSettings,
    config: ProbeConfig,
    external: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, Any], dict[int, LassoSubset], list[str]]:
    """Fit every model on train labeled rows; AUC with bootstrap CI on val labeled rows.

    ``external``: scores of predictors trained elsewhere (e.g. the reward model's
    r(A) - r(B)), row-aligned with the pairs; they share the bootstrap resamples.
    """
    tr = data.labeled & data.train
    va = data.labeled & ~data.train
    y_tr, y_va = data.y[tr], data.y[va]
    if np.unique(y_tr).size < 2:
        log.warning("train split: %d labeled rows, not both classes: no models fitted", y_tr.size)
        return {}, {}, []
    lasso, lasso_control_names = _fit_lasso(data, settings, tr)
    table, scores_va = _fit_models(data, settings, config, lasso, (tr, va))
    for name, score in (external or {}).items():
        scores_va[name] = score[va]
        table[name] = {
            "train_auc": roc_auc(y_tr, score[tr]),
            "n_features": None,
            "n_train": int(y_tr.size),
            "n_val": int(y_va.size),
            "C": None,
        }
    _add_val_aucs(table, data, settings, va, scores_va)
    return table, lasso, lasso_control_names


def reward_margins(scores_path: str, pairs_path: str, data: AnalysisData) -> np.ndarray:
    """The reward model's r(A) - r(B), row-aligned with pairs (NaN where not scored)."""
    scores = pl.read_parquet(scores_path)
    pair_ids = pl.read_parquet(pairs_path, columns=["pair_id"]).get_column("pair_id")
    aligned = pl.DataFrame({"pair_id": pair_ids}).join(
        scores.select("pair_id", "margin"), on="pair_id", how="left", maintain_order="left"
    )
    margin = aligned.get_column("margin").cast(pl.Float64).fill_null(np.nan).to_numpy()
    missing = data.labeled & ~np.isfinite(margin)
    if missing.any():
        raise InputError(
            f"{int(missing.sum())} labeled pair(s) have no reward-model score; re-run the "
            "reward_model rule",
            file=scores_path,
            row=int(missing.argmax()) + 1,
        )
    return margin


def reward_model_share(aucs: dict[str, Any]) -> dict[str, float] | None:
    """Each predictor's val-AUC gain over chance as a share of the reward model's (WIMHF's
    "features reach x% of the reward model"); None without a reward model."""
    rm = aucs.get("reward_model", {}).get("val_auc")
    if rm is None or not np.isfinite(rm) or rm <= 0.5:
        return None
    return {
        name: (row["val_auc"] - 0.5) / (rm - 0.5)
        for name, row in aucs.items()
        if name != "reward_model" and row.get("val_auc") is not None
    }
