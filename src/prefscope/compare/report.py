"""The comparison's figure (feature x dataset heat map with CIs) and Markdown summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from prefscope.io import atomic_path
from prefscope.report.markdown import md_cell, md_table
from prefscope.report.plots import pyplot, save_figure


def heatmap_rows(effects: pl.DataFrame, flipped: set[int], max_features: int) -> list[int]:
    """Features to draw: every sign flip, then the largest |effect| in any dataset."""
    strength = (
        effects.group_by("feature")
        .agg(pl.col("coef").abs().max().fill_null(0.0).alias("size"))
        .sort(["size", "feature"], descending=[True, False])
        .get_column("feature")
        .to_list()
    )
    rows = [f for f in strength if f in flipped]
    rows += [f for f in strength if f not in flipped][: max(0, max_features - len(rows))]
    return rows


def effects_heatmap(
    effects: pl.DataFrame,
    labels: dict[int, str],
    datasets: list[str],
    flipped: set[int],
    path: str | Path,
    max_features: int = 40,
) -> None:
    """Coefficient per feature (row) and dataset (column), each cell annotated with the
    estimate and its 95% CI; ``*`` marks per-dataset significance, ``⇄`` a sign flip."""
    plt = pyplot()
    rows = heatmap_rows(effects, flipped, max_features)
    grid = np.full((len(rows), len(datasets)), np.nan)
    text = [["" for _ in datasets] for _ in rows]
    index = {(r["feature"], r["dataset"]): r for r in effects.iter_rows(named=True)}
    for i, f in enumerate(rows):
        for j, d in enumerate(datasets):
            r = index.get((f, d))
            if r is None or r["coef"] is None:
                text[i][j] = "n/a"
                continue
            grid[i, j] = r["coef"]
            star = "*" if r["significant"] else ""
            text[i][j] = f"{r['coef']:+.2f}{star}\n[{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]"
    finite = np.abs(grid[np.isfinite(grid)])
    vmax = float(finite.max()) if finite.size else 1.0
    fig, ax = plt.subplots(figsize=(2.0 + 1.7 * len(datasets), 0.5 * max(len(rows), 3) + 1.5))
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(datasets)):
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=6.5)
    ax.set_xticks(range(len(datasets)), datasets, fontsize=8)
    ax.set_yticks(
        range(len(rows)),
        [f"{'⇄ ' if f in flipped else ''}{f}: {(labels.get(f) or '')[:35]}" for f in rows],
        fontsize=7,
    )
    ax.xaxis.tick_top()
    fig.colorbar(im, ax=ax, label="log-odds of winning per SD (length-controlled)", shrink=0.6)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        save_figure(fig, tmp, Path(path).suffix[1:])
    plt.close(fig)


def _ci(lo: object, hi: object) -> str:
    return f"[{md_cell(lo)}, {md_cell(hi)}]"


def _effect_cell(e: dict) -> str:
    star = "*" if e["significant"] else ""
    return f"{md_cell(e['coef'])}{star} {_ci(e['ci_low'], e['ci_high'])}"


def _pool_table(summary: dict) -> str:
    """Rows each dataset offered and contributed, and how well the pooled SAE fits it."""
    datasets = summary["datasets"]
    pool = summary["pool"]
    return md_table(
        [
            "dataset",
            "labeled pairs",
            "train rows available",
            "train rows used",
            "val FVU of the pooled SAE",
        ],
        [
            [
                d,
                pool["datasets"][d]["n_labeled"],
                pool["datasets"][d]["n_train_available"],
                pool["datasets"][d]["n_train_used"],
                (summary["sae"]["per_dataset_val"].get(d) or {}).get("fvu"),
            ]
            for d in datasets
        ],
    )


def _flips_section(summary: dict) -> list[str]:
    """The sign-flip table (or "None.")."""
    out: list[str] = []
    if summary["sign_flips"]:
        out.append(
            md_table(
                [
                    "feature",
                    "label",
                    "datasets",
                    "coef (95% CI) first",
                    "coef (95% CI) second",
                    "difference z",
                    "q (difference)",
                ],
                [
                    [
                        f["feature"],
                        f["label"],
                        f"{f['dataset_a']} vs {f['dataset_b']}",
                        f"{md_cell(f['coef_a'])} {_ci(f['ci_low_a'], f['ci_high_a'])}",
                        f"{md_cell(f['coef_b'])} {_ci(f['ci_low_b'], f['ci_high_b'])}",
                        f["z"],
                        f["q"],
                    ]
                    for f in summary["sign_flips"]
                ],
            )
        )
    else:
        out.append("None.")
    return out


def _effects_section(summary: dict) -> list[str]:
    """Effects per dataset of the features significant in at least one of them."""
    datasets = summary["datasets"]
    out: list[str] = []
    out += [
        "",
        "## Effects per dataset (features significant in at least one dataset)",
        "",
        md_table(
            [
                "feature",
                "label",
                *[f"{d} coef (95% CI)" for d in datasets],
                *[f"{d} prevalence" for d in datasets],
            ],
            [
                [
                    f["feature"],
                    f["label"],
                    *[_effect_cell(f["effects"][d]) for d in datasets],
                    *[f["effects"][d]["prevalence"] for d in datasets],
                ]
                for f in summary["features"]
                if any(f["effects"][d]["significant"] for d in datasets)
            ],
        ),
        "",
        "`*`: BH q < fdr_q within that dataset.",
    ]
    return out


def _planted_section(summary: dict) -> list[str]:
    """Demo ground truth: is each planted flip found?"""
    out: list[str] = []
    if "planted" in summary:
        out += [
            "",
            "## Planted concepts (demo ground truth)",
            "",
            md_table(
                [
                    "concept",
                    "true weights",
                    "feature",
                    "corr",
                    "effects",
                    "flip planted",
                    "flip found",
                    "correct",
                ],
                [
                    [
                        r["concept"],
                        ", ".join(f"{d} {w:+g}" for d, w in r["true_weights"].items()),
                        r["best_feature"],
                        r["correlation"],
                        ", ".join(f"{d} {md_cell(e)}" for d, e in r["label_effects"].items()),
                        "; ".join(" vs ".join(p) for p in r["flip_planted"]) or "no",
                        "; ".join(" vs ".join(p) for p in r["flip_found"]) or "no",
                        r["correct"],
                    ]
                    for r in summary["planted"]
                ],
            ),
        ]
    return out


def compare_markdown(summary: dict) -> str:
    """Readable summary: datasets, pooled SAE, sign flips (with the test used), planted truth."""
    datasets = summary["datasets"]
    pool = summary["pool"]
    out = [
        f"# prefscope: comparison of {', '.join(datasets)}",
        "",
        f"One SAE ({summary['sae']['config']['architecture']}, "
        f"{summary['sae']['config']['n_latents']} latents) trained on the pooled embedding "
        f"differences, balanced by `{pool['balance']}`: every dataset contributes "
        f"{pool['n_train_per_dataset']} train rows (before sign flips).",
        "",
        _pool_table(summary),
        "",
        f"## Features whose sign differs between datasets ({len(summary['sign_flips'])})",
        "",
        f"Test: {summary['settings']['test']}; fdr_q = {summary['settings']['fdr_q']}.",
        "",
    ]
    out += _flips_section(summary)
    out += _effects_section(summary)
    out += _planted_section(summary)
    return "\n".join(out) + "\n"
