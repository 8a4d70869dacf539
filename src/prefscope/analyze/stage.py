"""Workflow stage: label statistics of SAE features (branch W, last step before the report).

Two kinds of numbers, estimated on different rows on purpose:

* **Per-feature effects** (controlled logit, Δ win rate, BH-FDR) use *all* labeled rows,
  train and val. This is not leakage: the SAE was trained on response-embedding differences
  only and never saw a label, so no feature was chosen with the labels it is tested on, and
  using every labeled pair gives the tightest intervals.
* **Predictive models** (controls only, embedding probe, all SAE features, controlled-Lasso
  subsets) are fitted on train-split labeled rows (Lasso selection included) and scored by
  ROC-AUC on val-split labeled rows, with a percentile bootstrap CI over val rows.

Only rows with label 0 or 1 count; null labels (ties, "other") are excluded here.

Three choices guard the numbers against artifacts (issue "every finding with its control"):

* **Fidelity gate** (``tested_features: passed``, as in WIMHF): BH-FDR, the joint model and
  the Lasso run over the features whose descriptions passed fidelity only; the others are
  reported as *unexplained* (their per-feature effects are still computed, never called
  significant).
* **Joint model**: all tested features plus the controls in one logit
  (:mod:`prefscope.analyze.joint`), beside the per-feature one; features whose significance
  differs between the two are flagged.
* **Clusters**: rows of one prompt component (``component`` in pairs.parquet; repeated pairs
  always share one) are one unit: logit SEs are cluster-robust and AUC CIs resample whole
  components (``cluster: true``).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from prefscope.analyze.auc import bootstrap_aucs, roc_auc
from prefscope.analyze.fdr import bh_fdr
from prefscope.analyze.joint import JointResult, joint_logit
from prefscope.analyze.lasso import LassoSubset, lasso_subsets
from prefscope.analyze.logit import controlled_logit
from prefscope.analyze.probe import ProbeConfig, fit_probe
from prefscope.analyze.winrate import prevalence, win_rates
from prefscope.errors import InputError
from prefscope.io import write_json, write_parquet

log = logging.getLogger("prefscope.analyze")


@dataclass(frozen=True)
class AnalyzeSettings:
    """Every setting that changes the outputs (the rule's ``params``)."""

    controls: tuple[str, ...] = ("length_delta",)
    lasso_top_k: tuple[int, ...] = (5, 10)
    n_bootstrap: int = 1000
    fdr_q: float = 0.05
    seed: int = 0
    tested_features: str = "passed"  # "passed" (fidelity) or "all"
    cluster: bool = True  # cluster-robust SEs and cluster bootstrap by prompt component
    n_bootstrap_effects: int = 200  # (cluster) bootstrap refits of the joint + per-feature fits

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> AnalyzeSettings:
        s = cls(
            controls=tuple(str(c) for c in params.get("controls", cls.controls)),
            lasso_top_k=tuple(int(k) for k in params.get("lasso_top_k", cls.lasso_top_k)),
            n_bootstrap=int(params.get("n_bootstrap", cls.n_bootstrap)),
            fdr_q=float(params.get("fdr_q", cls.fdr_q)),
            seed=int(params.get("seed", cls.seed)),
            tested_features=str(params.get("tested_features", cls.tested_features)),
            cluster=bool(params.get("cluster", cls.cluster)),
            n_bootstrap_effects=int(params.get("n_bootstrap_effects", cls.n_bootstrap_effects)),
        )
        if s.tested_features not in ("passed", "all"):
            raise InputError("tested_features must be 'passed' or 'all'", column="tested_features")
        if any(k < 1 for k in s.lasso_top_k):
            raise InputError("lasso_top_k values must be >= 1", column="lasso_top_k")
        if s.n_bootstrap < 0:
            raise InputError("n_bootstrap must be >= 0", column="n_bootstrap")
        if not 0 < s.fdr_q < 1:
            raise InputError("fdr_q must lie in (0, 1)", column="fdr_q")
        return s


@dataclass(frozen=True)
class AnalysisData:
    """Validated inputs, row-aligned with pairs.parquet; boolean masks select rows."""

    y: np.ndarray  # int8 labels, -1 where not 0/1
    labeled: np.ndarray  # bool
    train: np.ndarray  # bool
    controls: np.ndarray  # [N, c] float64 (constant ones already dropped)
    control_names: list[str]
    dropped_controls: list[str]
    codes: np.ndarray  # [N, M]
    deltas: np.ndarray | None  # [N, d]
    groups: np.ndarray | None = None  # cluster id per row (None: rows independent)
    tested: np.ndarray | None = None  # bool [M]: description passed fidelity (None: all)

    def tested_mask(self) -> np.ndarray:
        m = self.codes.shape[1]
        return np.ones(m, dtype=bool) if self.tested is None else self.tested


# ---------------------------------------------------------------------------- inputs


def _load_matrix(path: str | Path, n_rows: int, name: str) -> np.ndarray:
    arr = np.load(path, mmap_mode="r", allow_pickle=False)
    if arr.ndim != 2 or arr.shape[0] != n_rows:
        raise InputError(
            f"{name} has shape {arr.shape}, expected ({n_rows}, ...) to match pairs", file=str(path)
        )
    arr = np.asarray(arr)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise InputError(f"{name} has NaN/inf values", file=str(path), row=int(bad.argmax()) + 1)
    return arr


def _control_matrix(pairs: pl.DataFrame, names: tuple[str, ...], source: str) -> np.ndarray:
    cols = []
    for name in names:
        if name not in pairs.columns:
            raise InputError("control column not found in pairs", file=source, column=name)
        col = pairs.get_column(name)
        if not col.dtype.is_numeric():
            raise InputError(f"control must be numeric, got {col.dtype}", file=source, column=name)
        values = col.cast(pl.Float64).to_numpy()
        missing = ~np.isfinite(values)
        if missing.any():
            raise InputError(
                f"control has {int(missing.sum())} missing/non-finite value(s)",
                file=source,
                row=int(missing.argmax()) + 1,
                column=name,
            )
        cols.append(values)
    return np.column_stack(cols) if cols else np.empty((pairs.height, 0))


def _varying(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Columns of x that are not constant over ``rows``."""
    sub = x[rows]
    if sub.shape[0] == 0:
        return np.zeros(x.shape[1], dtype=bool)
    return sub.max(axis=0) > sub.min(axis=0)


def _tested(path: str | Path | None, m: int, settings: AnalyzeSettings) -> np.ndarray | None:
    """Features whose description passed fidelity (``kept``), or None = test all of them."""
    if settings.tested_features == "all" or not path:
        return None
    fid = pl.read_parquet(path)
    for col in ("feature", "kept"):
        if col not in fid.columns:
            raise InputError("required column missing", file=str(path), column=col)
    tested = np.zeros(m, dtype=bool)
    feats = fid.get_column("feature").to_numpy()
    if feats.size and (feats.min() < 0 or feats.max() >= m):
        raise InputError(f"feature ids must lie in [0, {m})", file=str(path), column="feature")
    tested[feats] = fid.get_column("kept").fill_null(False).to_numpy()
    log.info(
        "fidelity gate: %d of %d features tested, %d unexplained", tested.sum(), m, m - tested.sum()
    )
    return tested


def load_inputs(inputs: dict[str, Any], settings: AnalyzeSettings) -> AnalysisData:
    source = str(inputs["pairs"])
    pairs = pl.read_parquet(source)
    codes = _load_matrix(inputs["codes"], pairs.height, "SAE codes")
    deltas = (
        _load_matrix(inputs["deltas"], pairs.height, "embedding deltas")
        if inputs.get("deltas")
        else None
    )
    tested = _tested(inputs.get("fidelity"), codes.shape[1], settings)
    return analysis_data(pairs, codes, deltas, settings, source, tested)


def analysis_data(
    pairs: pl.DataFrame,
    codes: np.ndarray,
    deltas: np.ndarray | None,
    settings: AnalyzeSettings,
    source: str,
    tested: np.ndarray | None = None,
) -> AnalysisData:
    """Labels, split and controls of ``pairs`` beside row-aligned codes (and deltas);
    ``tested`` marks the features whose descriptions passed fidelity (None = all).

    Separate from file reading so that the cross-dataset comparison can analyse one
    dataset's slice of pooled codes exactly as the per-dataset analysis does.
    """
    for col in ("label", "split"):
        if col not in pairs.columns:
            raise InputError("required column missing", file=source, column=col)
    label = pairs.get_column("label").cast(pl.Int8, strict=False)
    labeled = label.is_in([0, 1]).fill_null(False).to_numpy()
    y = np.where(labeled, label.fill_null(-1).to_numpy(), -1).astype(np.int8)
    split = pairs.get_column("split").to_numpy()
    bad_split = ~np.isin(split, ["train", "val"])
    if bad_split.any():
        raise InputError(
            f"split must be 'train' or 'val', got {split[bad_split.argmax()]!r}",
            file=source,
            row=int(bad_split.argmax()) + 1,
            column="split",
        )
    controls = _control_matrix(pairs, settings.controls, source)
    keep = _varying(controls, labeled)
    dropped = [n for n, k in zip(settings.controls, keep, strict=True) if not k]
    if dropped:
        log.warning("dropping control(s) constant over the labeled rows: %s", ", ".join(dropped))
    groups = None
    if settings.cluster:
        if "component" in pairs.columns:
            groups = pairs.get_column("component").to_numpy()
        else:
            log.warning("pairs have no 'component' column: rows treated as independent")
    return AnalysisData(
        groups=groups,
        tested=tested,
        y=y,
        labeled=labeled,
        train=split == "train",
        controls=controls[:, keep],
        control_names=[n for n, k in zip(settings.controls, keep, strict=True) if k],
        dropped_controls=dropped,
        codes=codes,
        deltas=deltas,
    )


# ---------------------------------------------------------------------------- per feature


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


# ---------------------------------------------------------------------------- models


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
    lasso_controls = _varying(data.controls, tr)
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
                y_tr,
                data.codes[tr][:, tested],
                data.controls[tr][:, lasso_controls],
                list(settings.lasso_top_k),
            ),
        )
        if tested.size
        else {}
    )
    lasso_control_names = [n for n, k in zip(data.control_names, lasso_controls, strict=True) if k]
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
    for name, score in (external or {}).items():
        scores_va[name] = score[va]
        table[name] = {
            "train_auc": roc_auc(y_tr, score[tr]),
            "n_features": None,
            "n_train": int(y_tr.size),
            "n_val": int(y_va.size),
            "C": None,
        }
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


# ---------------------------------------------------------------------------- stage


def analyze(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Write ``features`` (per-feature label statistics) and ``summary`` (AUCs, Lasso)."""
    settings = AnalyzeSettings.from_params(params)
    config = ProbeConfig()
    with threadpool_limits(max(1, int(threads))):
        data = load_inputs(inputs, settings)
        n_lab = int(data.labeled.sum())
        if n_lab == 0 or np.unique(data.y[data.labeled]).size < 2:
            raise InputError(
                f"need labeled rows of both classes (label 0 and 1), found {n_lab} labeled",
                file=str(inputs["pairs"]),
                column="label",
            )
        features, joint_fit = feature_table_and_joint(
            data, settings.fdr_q, settings.n_bootstrap_effects, settings.seed
        )
        external = (
            {"reward_model": reward_margins(inputs["reward_scores"], inputs["pairs"], data)}
            if inputs.get("reward_scores")
            else None
        )
        aucs, lasso, lasso_controls = auc_table(data, settings, config, external)

    n_sig = int(features.get_column("significant").sum())
    n_joint = int(features.get_column("joint_significant").sum())
    differs = features.filter(pl.col("significance_differs"))
    log.info("%d of %d features significant at q < %g", n_sig, features.height, settings.fdr_q)
    summary = {
        "n_rows": int(data.y.size),
        "n_labeled": n_lab,
        "n_labeled_train": int((data.labeled & data.train).sum()),
        "n_labeled_val": int((data.labeled & ~data.train).sum()),
        "n_features": int(data.codes.shape[1]),
        "controls": data.control_names,
        "dropped_controls": data.dropped_controls,
        "n_significant": n_sig,
        "n_tested": int(features.get_column("tested").sum()),
        "unexplained_features": features.filter(pl.col("unexplained"))
        .get_column("feature")
        .to_list(),
        "joint": {
            "status": "no tested features" if joint_fit is None else joint_fit.status,
            "n_features": int(features.get_column("tested").sum()),
            "n_significant": n_joint,
            "clustered": data.groups is not None,
            "n_bootstrap": 0 if joint_fit is None else joint_fit.n_bootstrap,
            "control_coefs": {}
            if joint_fit is None
            else dict(zip(data.control_names, map(float, joint_fit.control_coef), strict=True)),
        },
        "significance_differs": [
            {
                "feature": r["feature"],
                "per_feature_q": r["q"],
                "joint_q": r["joint_q"],
                "significant_per_feature": r["significant"],
                "significant_joint": r["joint_significant"],
            }
            for r in differs.iter_rows(named=True)
        ],
        "n_clusters": None if data.groups is None else int(np.unique(data.groups).size),
        "status_counts": dict(features.get_column("status").value_counts().iter_rows()),
        "auc": aucs,
        "reward_model_share": reward_model_share(aucs),
        "lasso": {
            str(k): {
                "features": s.features,
                "coefs": s.coefs,
                "control_coefs": dict(zip(lasso_controls, s.control_coefs, strict=True)),
                "n_selected": len(s.features),
                "exact": s.exact,
                "lambda": s.lam,
            }
            for k, s in lasso.items()
        },
        "settings": {
            **vars(settings),
            "probe": {"Cs": list(config.cs), "folds": config.folds, "penalty": "l2"},
            "effects_on": "all labeled rows",
            "fdr_and_lasso_over": "features whose description passed fidelity"
            if settings.tested_features == "passed"
            else "all features",
            "uncertainty": "cluster-robust SEs, cluster bootstrap by prompt component"
            if data.groups is not None
            else "model-based SEs, row bootstrap",
            "auc_on": "val labeled rows; models fitted on train labeled rows",
        },
    }
    write_parquet(outputs["features"], features)
    write_json(outputs["summary"], summary)
