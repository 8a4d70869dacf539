"""Workflow stages of the analysis (branch W): ``analyze`` writes the label statistics of SAE
features (the last step before the report), ``reward_model`` the reward-model baseline.

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
import time
from typing import Any

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from prefscope.analyze.auc import roc_auc
from prefscope.analyze.effects import feature_table_and_joint
from prefscope.analyze.inputs import AnalysisData, AnalyzeSettings, load_inputs
from prefscope.analyze.joint import JointResult
from prefscope.analyze.lasso import LassoSubset
from prefscope.analyze.models import auc_table, reward_margins, reward_model_share
from prefscope.analyze.probe import ProbeConfig
from prefscope.analyze.reward_model import (
    RewardModelSettings,
    load_reward_model,
    score_pairs,
    train_reward_model,
    training_pairs,
)
from prefscope.errors import InputError
from prefscope.io import write_json, write_parquet
from prefscope.runtime import set_threads

log = logging.getLogger("prefscope.analyze")


def _joint_summary(
    features: pl.DataFrame, data: AnalysisData, joint_fit: JointResult | None
) -> dict[str, Any]:
    """The joint model's record: status, size, significance count and control coefficients."""
    return {
        "status": "no tested features" if joint_fit is None else joint_fit.status,
        "n_features": int(features.get_column("tested").sum()),
        "n_significant": int(features.get_column("joint_significant").sum()),
        "clustered": data.groups is not None,
        "n_bootstrap": 0 if joint_fit is None else joint_fit.n_bootstrap,
        "control_coefs": {}
        if joint_fit is None
        else dict(zip(data.control_names, map(float, joint_fit.control_coef), strict=True)),
    }


def _differs_summary(features: pl.DataFrame) -> list[dict[str, Any]]:
    """The features whose significance differs between the per-feature and joint models."""
    differs = features.filter(pl.col("significance_differs"))
    return [
        {
            "feature": r["feature"],
            "per_feature_q": r["q"],
            "joint_q": r["joint_q"],
            "significant_per_feature": r["significant"],
            "significant_joint": r["joint_significant"],
        }
        for r in differs.iter_rows(named=True)
    ]


def _lasso_summary(lasso: dict[int, LassoSubset], lasso_controls: list[str]) -> dict[str, Any]:
    return {
        str(k): {
            "features": s.features,
            "coefs": s.coefs,
            "control_coefs": dict(zip(lasso_controls, s.control_coefs, strict=True)),
            "n_selected": len(s.features),
            "exact": s.exact,
            "lambda": s.lam,
        }
        for k, s in lasso.items()
    }


def _settings_summary(
    settings: AnalyzeSettings, config: ProbeConfig, data: AnalysisData
) -> dict[str, Any]:
    """The settings, with the choices they imply spelled out for the reader."""
    return {
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
    }


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
        "joint": _joint_summary(features, data, joint_fit),
        "significance_differs": _differs_summary(features),
        "n_clusters": None if data.groups is None else int(np.unique(data.groups).size),
        "status_counts": dict(sorted(features.get_column("status").value_counts().iter_rows())),
        "auc": aucs,
        "reward_model_share": reward_model_share(aucs),
        "lasso": _lasso_summary(lasso, lasso_controls),
        "settings": _settings_summary(settings, config, data),
    }
    write_parquet(outputs["features"], features)
    write_json(outputs["summary"], summary)


def reward_model(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Fine-tune the reward model on train pairs, score every labeled pair, write scores and
    metrics (logic: :mod:`prefscope.analyze.reward_model`)."""
    import torch

    set_threads(threads)  # torch gets exactly the rule's threads (also when called directly)
    cfg = RewardModelSettings.from_params(dict(params["reward_model"]))
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    source = str(inputs["pairs"])
    pairs = pl.read_parquet(source)
    for column in ("pair_id", "prompt", "response_A", "response_B", "label", "split", "dedup"):
        if column not in pairs.columns:
            raise InputError("required column missing", file=source, column=column)
    train = training_pairs(pairs)
    if train.height == 0:
        raise InputError(
            "no labeled, deduplicated train-split pairs to train on", file=source, column="label"
        )
    model_path = str(inputs.get("model") or cfg.model)
    log.info("reward model %s on %s: %d training pairs", model_path, device, train.height)
    torch.manual_seed(cfg.seed)
    model, tokenizer = load_reward_model(model_path, cfg.revision, device)
    start = time.perf_counter()
    model, run = train_reward_model(model, tokenizer, train, cfg, device)
    scores = score_pairs(model, tokenizer, pairs, cfg)
    y = scores.get_column("label").cast(pl.Int8).to_numpy()
    margin = scores.get_column("margin").to_numpy()
    is_val = (scores.get_column("split") == "val").to_numpy()
    metrics = {
        "model": cfg.model,
        "device": device,
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "n_train_pairs": train.height,
        "n_scored": scores.height,
        "train_auc": roc_auc(y[~is_val], margin[~is_val]),
        "val_auc": roc_auc(y[is_val], margin[is_val]),
        "seconds": round(time.perf_counter() - start, 2),
        "settings": dataclasses.asdict(cfg),
        **run,
    }
    log.info("reward model: train AUC %.3f, val AUC %.3f", metrics["train_auc"], metrics["val_auc"])
    write_parquet(outputs["scores"], scores)
    write_json(outputs["metrics"], metrics)
