"""Static figures for the Snakemake report."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from prefscope.io import atomic_path


def pyplot():
    """matplotlib.pyplot on the Agg backend, set up so identical inputs give identical SVGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # identical inputs give byte-identical SVGs (fixed element ids, no creation date)
    matplotlib.rcParams["svg.hashsalt"] = "prefscope"

    return plt


def save_figure(fig, path, fmt: str) -> None:
    """Save without a creation date, so identical inputs give identical files."""
    metadata = {"Date": None} if fmt == "svg" else None
    fig.savefig(path, format=fmt, metadata=metadata)


def effects_plot(table: pl.DataFrame, path: str | Path, top: int = 20) -> None:
    """Controlled-logit coefficients with 95% CIs; significant features in colour."""
    plt = pyplot()
    rows = table.filter(pl.col("coef").is_not_null()).head(top).reverse()
    labels = [f"{r['feature']}: {(r['label'] or '')[:40]}" for r in rows.iter_rows(named=True)]
    fig, ax = plt.subplots(figsize=(7, 0.32 * max(len(labels), 4) + 1))
    y = range(len(labels))
    coef = rows["coef"].to_list()
    lo = [c - low for c, low in zip(coef, rows["ci_low"].to_list(), strict=True)]
    hi = [h - c for c, h in zip(coef, rows["ci_high"].to_list(), strict=True)]
    colors = ["tab:red" if s else "tab:gray" for s in rows["significant"].to_list()]
    ax.errorbar(coef, list(y), xerr=[lo, hi], fmt="none", ecolor="lightgray")
    ax.scatter(coef, list(y), c=colors, zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.set_xlabel("log-odds of winning per SD of activation (length-controlled)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        save_figure(fig, tmp, Path(path).suffix[1:])
    plt.close(fig)


def auc_plot(auc: dict, path: str | Path) -> None:
    """Held-out ROC-AUC with bootstrap 95% CIs per predictor set.

    A predictor set without a held-out AUC (e.g. no labelled validation rows) is named on the
    plot as "n/a" instead of plotted; a missing CI draws the point without error bars.
    """
    plt = pyplot()

    def num(x: object) -> float:
        return float(x) if isinstance(x, int | float) and x == x else float("nan")

    names = list(auc)
    vals = [num(auc[n].get("val_auc")) for n in names]
    low = [num(auc[n].get("ci_low")) for n in names]
    high = [num(auc[n].get("ci_high")) for n in names]
    err = [
        [v - lo if lo == lo else 0.0 for v, lo in zip(vals, low, strict=True)],
        [hi - v if hi == hi else 0.0 for v, hi in zip(vals, high, strict=True)],
    ]
    fig, ax = plt.subplots(figsize=(6, 0.45 * max(len(names), 1) + 1))
    shown = [i for i, v in enumerate(vals) if v == v]
    if shown:
        ax.errorbar(
            [vals[i] for i in shown],
            shown,
            xerr=[[err[0][i] for i in shown], [err[1][i] for i in shown]],
            fmt="o",
        )
    for i, v in enumerate(vals):
        if v != v:
            ax.text(0.5, i, "n/a (no held-out AUC)", ha="center", va="center", color="gray")
    ax.axvline(0.5, color="gray", ls="--", lw=0.8)
    ax.set_xlim(0.0, 1.0)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("held-out ROC-AUC (95% bootstrap CI)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        save_figure(fig, tmp, Path(path).suffix[1:])
    plt.close(fig)
