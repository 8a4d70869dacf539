"""Workflow stages of the cross-dataset comparison (``results/compare/``).

``pool``: stack the datasets' pairs and embedding differences. ``train``: one SAE on balanced
pooled differences (:mod:`prefscope.compare.pool`). The pooled features are then described
and scored by the ordinary interpret stages. ``compare``: per-dataset effects and prevalence
of every feature, sign-flip tests (:mod:`prefscope.compare.effects`), heat map and summaries.
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from prefscope.analyze.inputs import AnalyzeSettings
from prefscope.compare.effects import (
    TEST_DESCRIPTION,
    dataset_effects,
    planted_comparison,
    sign_differences,
)
from prefscope.compare.pool import balanced_rows, pool_pairs
from prefscope.compare.report import compare_markdown, effects_heatmap
from prefscope.errors import InputError
from prefscope.io import load_npy, read_json, save_npy, write_json, write_parquet, write_text
from prefscope.sae import evaluate
from prefscope.sae.stage import fit_and_write

log = logging.getLogger("prefscope.compare")


def _named_inputs(inputs: dict, prefix: str, datasets: list[str]) -> list[str]:
    return [str(inputs[f"{prefix}_{name}"]) for name in datasets]


def compare_pool(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Write the pooled pairs table and the row-aligned pooled embedding differences."""
    datasets = list(params["datasets"])
    tables, deltas = [], []
    for name, pairs_path, deltas_path in zip(
        datasets,
        _named_inputs(inputs, "pairs", datasets),
        _named_inputs(inputs, "deltas", datasets),
        strict=True,
    ):
        table = pl.read_parquet(pairs_path)
        delta = load_npy(deltas_path)
        if delta.ndim != 2 or delta.shape[0] != table.height:
            raise InputError(
                f"deltas have shape {delta.shape} but dataset {name!r} has {table.height} "
                "pairs; re-run its embed rule",
                file=deltas_path,
            )
        tables.append(table)
        deltas.append(delta)
    widths = {d.shape[1] for d in deltas}
    if len(widths) > 1:
        raise InputError(f"datasets were embedded with different widths {sorted(widths)}")
    pooled = pool_pairs(datasets, tables)
    write_parquet(outputs["pairs"], pooled)
    save_npy(outputs["deltas"], np.concatenate(deltas).astype(np.float32))
    log.info("pooled %d pairs from %s", pooled.height, ", ".join(datasets))


def compare_sae(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """One SAE on balanced pooled differences (+ sign flips); codes for every pooled row."""
    pooled = pl.read_parquet(inputs["pairs"])
    deltas = load_npy(inputs["deltas"])
    rows = balanced_rows(pooled, str(params["balance"]), int(params["seed"]))
    x_train = deltas[rows.train].astype(np.float32)
    x_train = np.concatenate([x_train, -x_train])
    x_val = deltas[rows.val].astype(np.float32)
    log.info("balanced rows per dataset: %s", rows.counts)
    model = fit_and_write(
        x_train,
        x_val,
        deltas,
        params["sae"],
        outputs,
        {"balance": params["balance"], "rows": rows.counts},
    )
    # How well the shared dictionary fits each dataset (all of its val rows, unbalanced).
    dataset = pooled.get_column("dataset").to_numpy()
    split = pooled.get_column("split").to_numpy()
    dedup = pooled.get_column("dedup").to_numpy().astype(bool)
    metrics = read_json(outputs["metrics"])
    metrics["per_dataset_val"] = {
        name: evaluate(model, deltas[(dataset == name) & (split == "val") & dedup])
        if ((dataset == name) & (split == "val") & dedup).any()
        else None
        for name in dict.fromkeys(dataset.tolist())
    }
    write_json(outputs["metrics"], metrics)


def _feature_records(
    effects: pl.DataFrame, fidelity: pl.DataFrame, datasets: list[str]
) -> list[dict]:
    keep = (
        "coef",
        "se",
        "ci_low",
        "ci_high",
        "p",
        "q",
        "significant",
        "delta_win_rate",
        "prevalence",
        "prevalence_ci_low",
        "prevalence_ci_high",
        "n_labeled",
    )
    by = {(r["feature"], r["dataset"]): r for r in effects.iter_rows(named=True)}
    out = []
    for f in fidelity.sort("feature").iter_rows(named=True):
        out.append(
            {
                "feature": f["feature"],
                "label": f["label"],
                "description": f["description"],
                "fidelity_r": f["fidelity_r"],
                "kept": f["kept"],
                "effects": {d: {k: by[(f["feature"], d)][k] for k in keep} for d in datasets},
            }
        )
    return out


def _flip_records(flips: pl.DataFrame, effects: pl.DataFrame, labels: dict) -> list[dict]:
    """One record per significant sign flip: both datasets' effects side by side."""
    by = {(r["feature"], r["dataset"]): r for r in effects.iter_rows(named=True)}
    flip_records = []
    for r in flips.iter_rows(named=True):
        a, b = by[(r["feature"], r["dataset_a"])], by[(r["feature"], r["dataset_b"])]
        flip_records.append(
            {
                "feature": r["feature"],
                "label": labels.get(r["feature"]),
                "description": a["description"],
                "dataset_a": r["dataset_a"],
                "dataset_b": r["dataset_b"],
                "coef_a": r["coef_a"],
                "ci_low_a": a["ci_low"],
                "ci_high_a": a["ci_high"],
                "q_a": r["q_a"],
                "coef_b": r["coef_b"],
                "ci_low_b": b["ci_low"],
                "ci_high_b": b["ci_high"],
                "q_b": r["q_b"],
                "diff": r["diff"],
                "z": r["z"],
                "q": r["q"],
            }
        )
    return flip_records


def _pool_summary(sae: dict, effects: pl.DataFrame, datasets: list[str]) -> dict:
    """How the pool was balanced: rows used per dataset and its labeled rows."""
    n_labeled = {
        d: int(effects.filter(pl.col("dataset") == d).get_column("n_labeled")[0]) for d in datasets
    }
    rows = sae["rows"]
    return {
        "balance": sae["balance"],
        "n_train_per_dataset": rows[datasets[0]]["n_train_used"],
        "datasets": {d: {**rows[d], "n_labeled": n_labeled[d]} for d in datasets},
    }


def compare(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    """Write effects.parquet (feature x dataset), differences.parquet, effects.svg and the
    summaries listing the features whose sign differs significantly between datasets."""
    datasets = list(params["datasets"])
    settings = AnalyzeSettings.from_params(params["analyze"])
    pooled = pl.read_parquet(inputs["pairs"])
    codes = load_npy(inputs["codes"])
    if codes.shape[0] != pooled.height:
        raise InputError(
            f"codes have {codes.shape[0]} rows, pooled pairs {pooled.height}",
            file=str(inputs["codes"]),
        )
    fidelity = pl.read_parquet(inputs["fidelity"])
    with threadpool_limits(max(1, int(threads))):
        effects = dataset_effects(pooled, codes, settings)
    labels = dict(zip(fidelity["feature"].to_list(), fidelity["label"].to_list(), strict=True))
    effects = effects.join(
        fidelity.select("feature", "label", "description", "fidelity_r", "kept"),
        on="feature",
        how="left",
    )
    differences = sign_differences(effects, datasets, settings.fdr_q)
    flips = differences.filter(pl.col("sign_flip")).sort("q")
    flip_records = _flip_records(flips, effects, labels)
    sae = read_json(inputs["sae_metrics"])
    summary: dict = {
        "datasets": datasets,
        "n_features": int(codes.shape[1]),
        "pool": _pool_summary(sae, effects, datasets),
        "sae": {k: sae[k] for k in ("config", "train", "val", "per_dataset_val")},
        "fidelity": read_json(inputs["fidelity_stats"]),
        "n_sign_flips": len(flip_records),
        "sign_flips": flip_records,
        "features": _feature_records(effects, fidelity, datasets),
        "settings": {
            "fdr_q": settings.fdr_q,
            "controls": list(settings.controls),
            "test": TEST_DESCRIPTION,
            "effects_on": "all labeled rows of each dataset",
        },
    }
    if params.get("truth"):
        truths = {d: read_json(inputs[f"truth_{d}"]) for d in datasets}
        concepts = {d: pl.read_parquet(inputs[f"concepts_{d}"]) for d in datasets}
        summary["planted"] = planted_comparison(
            pooled, codes, concepts, truths, effects, differences
        )
    write_parquet(outputs["effects"], effects)
    write_parquet(outputs["differences"], differences)
    effects_heatmap(
        effects,
        labels,
        datasets,
        set(flips.get_column("feature").to_list()),
        outputs["effects_plot"],
        int(params["heatmap_features"]),
    )
    write_text(outputs["markdown"], compare_markdown(summary))
    write_json(outputs["summary"], summary)
    log.info("%d sign flip(s) across %s", len(flip_records), ", ".join(datasets))
