"""Workflow stages of the report pages: ``report`` joins every branch-W result of one dataset
into its final outputs, ``lfp_report`` renders a branch-L run's page, ``index`` the index of all.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from prefscope.io import load_npy, read_json, write_json, write_parquet, write_text, write_tsv
from prefscope.report.dataset_page import dataset_page
from prefscope.report.index_page import index_page
from prefscope.report.markdown import summary_markdown
from prefscope.report.orient import orient_lasso
from prefscope.report.plots import auc_plot, effects_plot
from prefscope.report.recovery import false_positives, planted_recovery, recovery_baselines
from prefscope.report.run_page import run_page
from prefscope.report.tables import feature_table, flat_for_tsv

log = logging.getLogger("prefscope.report")

_TOP_COLUMNS = (
    "feature",
    "label",
    "description",
    "coef",
    "ci_low",
    "ci_high",
    "boot_ci_low",
    "boot_ci_high",
    "p",
    "q",
    "delta_win_rate",
    "prevalence",
    "fidelity_r",
    "fidelity_p",
    "kept",
    "orientation",
    "joint_coef",
    "joint_ci_low",
    "joint_ci_high",
    "joint_boot_ci_low",
    "joint_boot_ci_high",
    "joint_q",
    "significant",
    "joint_significant",
    "significance_differs",
)


def _headline(params: dict, analysis_summary: dict) -> tuple[str, str]:
    """(model, significance column) of the headline: the joint model unless configured
    otherwise or its fit failed (then the per-feature model, and the summary says why)."""
    wanted = str(params.get("headline", "joint"))
    joint = analysis_summary.get("joint") or {}
    if wanted == "joint" and joint.get("status") == "ok":
        return "joint", "joint_significant"
    return "per_feature", "significant"


def _dataset_summary(inputs: dict, params: dict, table: pl.DataFrame) -> dict:
    """summary.json of one dataset, before the planted-recovery records join it."""
    analysis_summary = read_json(inputs["analysis_summary"])
    fdr_q = float(params["fdr_q"])
    headline, sig_col = _headline(params, analysis_summary)
    if sig_col not in table.columns:  # an analysis from before the joint model
        headline, sig_col = "per_feature", "significant"
    significant = table.filter(pl.col(sig_col))
    return {
        "dataset": params["dataset"],
        "data": read_json(inputs["ingest"]),
        "embedding": read_json(inputs["embed_meta"]),
        "sae": read_json(inputs["sae_metrics"]),
        "fidelity": read_json(inputs["fidelity_stats"]),
        "auc": analysis_summary["auc"],
        "reward_model_share": analysis_summary.get("reward_model_share"),
        "lasso": analysis_summary.get("lasso"),
        "n_features": table.height,
        "n_significant": significant.height,
        "headline": headline,
        "n_significant_per_feature": int(table.get_column("significant").sum()),
        "n_significant_joint": int(table.get_column("joint_significant").sum())
        if "joint_significant" in table.columns
        else None,
        "joint": analysis_summary.get("joint"),
        "significance_differs": analysis_summary.get("significance_differs"),
        "n_tested": analysis_summary.get("n_tested"),
        "unexplained_features": table.filter(pl.col("unexplained"))
        .select([c for c in ("feature", "label", "coef", "p", "fidelity_r") if c in table.columns])
        .to_dicts()
        if "unexplained" in table.columns
        else None,
        "n_clusters": analysis_summary.get("n_clusters"),
        "uncertainty": analysis_summary.get("settings", {}).get("uncertainty"),
        "top_features": significant.select(
            [c for c in _TOP_COLUMNS if c in table.columns]
        ).to_dicts(),
        "settings": {"fdr_q": fdr_q, "headline": headline},
    }


def _add_recovery(
    summary: dict, inputs: dict, codes: np.ndarray, table: pl.DataFrame, fdr_q: float
) -> None:
    """Demo datasets: how well the features recover the planted concepts (and baselines)."""
    truth = read_json(inputs["truth"])
    concepts = pl.read_parquet(inputs["concepts"])
    records = planted_recovery(codes, concepts, truth, table, fdr_q)
    if "deltas" in inputs:  # PCA / ICA of the same differences
        summary["recovery_baselines"] = recovery_baselines(
            records, codes, np.asarray(load_npy(inputs["deltas"])), concepts, truth, table
        )
    summary["planted_recovery"] = records
    summary["planted_false_positives"] = false_positives(records)


def report(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Join every branch-W result of one dataset: feature table, summaries, plots, page."""
    analysis = pl.read_parquet(inputs["analysis"])
    fidelity = pl.read_parquet(inputs["fidelity"])
    table = feature_table(analysis, fidelity)
    summary = _dataset_summary(inputs, params, table)
    # codes in the shown direction: column j times the orientation of feature j
    sign = table.sort("feature").get_column("orientation").to_numpy()
    codes = np.asarray(load_npy(inputs["codes"])) * sign[None, :]
    summary["lasso"] = orient_lasso(summary["lasso"], sign)
    if "truth" in inputs:
        _add_recovery(summary, inputs, codes, table, float(params["fdr_q"]))
    write_parquet(outputs["features"], table)
    write_tsv(outputs["features_tsv"], flat_for_tsv(table))
    effects_plot(table, outputs["effects_plot"])
    auc_plot(summary["auc"], outputs["auc_plot"])
    pairs = pl.read_parquet(inputs["pairs"])
    write_text(
        outputs["page"],
        dataset_page(
            summary,
            table,
            pairs,
            codes,
            auc_svg=outputs["auc_plot"],
            effects_svg=outputs["effects_plot"],
            n_example_features=int(params["page_example_features"]),
            n_examples=int(params["page_examples"]),
        ),
    )
    write_text(outputs["markdown"], summary_markdown(summary))
    write_json(outputs["summary"], summary)
    log.info("%d features, %d significant", table.height, summary["n_significant"])


def lfp_report(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """A branch-L run's summary, explanations, figures (and completions) -> its page."""
    summary = read_json(inputs["summary"])
    completions = pl.read_parquet(inputs["completions"]) if inputs.get("completions") else None
    figures = {k: inputs.get(k) for k in ("divergence", "pca", "error_vs_count")}
    write_text(
        outputs["page"],
        run_page(
            summary, read_json(inputs["explanations"]), completions=completions, figures=figures
        ),
    )


def index(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """The index of every result: ``inputs`` datasets / runs (summary.json paths, in the order
    of ``params`` datasets / runs) and optionally compare."""

    def load(paths: Any, names: list[str]) -> dict[str, dict[str, Any]]:
        paths = [paths] if isinstance(paths, str | Path) else list(paths or [])
        if len(paths) != len(names):
            raise ValueError(f"{len(names)} names for {len(paths)} summaries")
        return {n: read_json(p) for n, p in zip(names, paths, strict=True)}

    datasets = load(inputs.get("datasets"), list(params["datasets"]))
    runs = load(inputs.get("runs"), list(params["runs"]))
    compare = read_json(inputs["compare"]) if inputs.get("compare") else None
    write_text(outputs["index"], index_page(datasets, runs, compare))
