"""Per-dataset label effects of shared features, and which features flip sign between datasets.

Each dataset's effects are estimated exactly as in its own analysis
(:func:`prefscope.analyze.effects.feature_table`: length-controlled logit per feature on all
labeled rows, Wald 95% CI, BH q within the dataset, Δ win rate), on that dataset's rows of
the pooled SAE's codes. Prevalence (share of rows where the feature fires) gets a Wilson 95%
interval.

**Sign flip test.** For features j and datasets a < b, the two estimates come from disjoint
rows, so they are independent and ``z = (β_a − β_b) / sqrt(se_a² + se_b²)`` is a Wald test of
equal effects. Its p-values are BH-adjusted over every (feature, dataset pair) tested. A
feature *flips sign* between a and b when

1. the difference is significant (BH q < ``fdr_q``), and
2. each effect's 95% CI excludes 0, and
3. the two effects have opposite signs.

The discovery whose false discovery rate BH controls is "the effects differ"; conditions 2-3
then only admit those differences whose direction is clear in both datasets. (Requiring each
effect to pass its own dataset's BH as well would be stricter and cost power exactly where a
feature matters in one dataset and is weaker in the other.)

Coefficients are log-odds per standard deviation of the feature *within* each dataset, so
condition 1 compares standardized effects; conditions 2–3, the sign claim itself, do not
depend on that scale.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats

from prefscope.analyze.effects import feature_table
from prefscope.analyze.fdr import bh_fdr
from prefscope.analyze.inputs import AnalyzeSettings, analysis_data
from prefscope.analyze.logistic import Z95
from prefscope.errors import InputError

TEST_DESCRIPTION = (
    "Wald z-test of the difference of the two datasets' length-controlled logit coefficients "
    "(independent samples: z = (b_a - b_b) / sqrt(se_a^2 + se_b^2)), BH-adjusted over all "
    "features x dataset pairs; a sign flip needs that q < fdr_q and each dataset's 95% CI "
    "excluding 0, with opposite signs"
)

EFFECT_COLUMNS = (
    "coef",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "q",
    "significant",
    "status",
    "delta_win_rate",
    "n_active",
    "prevalence",
    "n",
)


def wilson_interval(k: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion k/n (NaN where n = 0)."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def dataset_effects(
    pooled: pl.DataFrame, codes: np.ndarray, settings: AnalyzeSettings
) -> pl.DataFrame:
    """Long table (feature x dataset) of each dataset's effects on its slice of ``codes``."""
    dataset = pooled.get_column("dataset").to_numpy()
    frames = []
    for name in dict.fromkeys(dataset.tolist()):
        rows = np.flatnonzero(dataset == name)
        data = analysis_data(pooled[rows], codes[rows], None, settings, f"dataset {name}")
        if np.unique(data.y[data.labeled]).size < 2:
            raise InputError(
                f"dataset {name!r} needs labeled pairs of both classes (label 0 and 1) to be "
                f"compared; it has {int(data.labeled.sum())} labeled",
                column="label",
            )
        table = feature_table(data, settings.fdr_q)
        active = (codes[rows] != 0).sum(axis=0)
        lo, hi = wilson_interval(active, np.full(active.shape, rows.size))
        frames.append(
            table.select("feature", *EFFECT_COLUMNS).with_columns(
                pl.lit(name).alias("dataset"),
                pl.Series("prevalence_ci_low", lo),
                pl.Series("prevalence_ci_high", hi),
                pl.lit(int(data.labeled.sum())).alias("n_labeled"),
            )
        )
    return pl.concat(frames).select("feature", "dataset", pl.exclude("feature", "dataset"))


def _wide(effects: pl.DataFrame, name: str) -> dict[str, np.ndarray]:
    part = effects.filter(pl.col("dataset") == name).sort("feature")
    return {
        "coef": part.get_column("coef").to_numpy().astype(float),
        "se": part.get_column("se").to_numpy().astype(float),
        "q": part.get_column("q").to_numpy().astype(float),
        "ci_low": part.get_column("ci_low").to_numpy().astype(float),
        "ci_high": part.get_column("ci_high").to_numpy().astype(float),
    }


def _excludes_zero(e: dict[str, np.ndarray]) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (e["ci_low"] > 0) | (e["ci_high"] < 0)  # False where not estimable (NaN)


def sign_differences(effects: pl.DataFrame, datasets: Sequence[str], fdr_q: float) -> pl.DataFrame:
    """One row per (feature, dataset pair a < b): difference test and the sign-flip verdict."""
    wide = {name: _wide(effects, name) for name in datasets}
    n_features = effects.get_column("feature").max() + 1
    features = np.arange(n_features, dtype=np.int64)
    frames = []
    for a, b in itertools.combinations(datasets, 2):
        ea, eb = wide[a], wide[b]
        diff = ea["coef"] - eb["coef"]
        se = np.sqrt(ea["se"] ** 2 + eb["se"] ** 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = diff / se
        frames.append(
            pl.DataFrame(
                {
                    "feature": features,
                    "dataset_a": [a] * n_features,
                    "dataset_b": [b] * n_features,
                    "coef_a": ea["coef"],
                    "coef_b": eb["coef"],
                    "q_a": ea["q"],
                    "q_b": eb["q"],
                    "excludes_0_a": _excludes_zero(ea),
                    "excludes_0_b": _excludes_zero(eb),
                    "diff": diff,
                    "se": se,
                    "z": z,
                    "p": 2.0 * stats.norm.sf(np.abs(z)),
                }
            )
        )
    table = pl.concat(frames).with_columns(pl.col(pl.Float64).fill_nan(None))
    p = table.get_column("p").fill_null(np.nan).to_numpy()
    q = bh_fdr(p)
    sig = lambda col: pl.col(col).fill_null(1.0) < fdr_q  # noqa: E731
    return table.with_columns(pl.Series("q", q).fill_nan(None)).with_columns(
        (
            sig("q")
            & pl.col("excludes_0_a")
            & pl.col("excludes_0_b")
            & (pl.col("coef_a").sign() != pl.col("coef_b").sign())
        ).alias("sign_flip")
    )


def planted_comparison(
    pooled: pl.DataFrame,
    codes: np.ndarray,
    concepts: Mapping[str, pl.DataFrame],
    truths: Mapping[str, dict],
    effects: pl.DataFrame,
    differences: pl.DataFrame,
) -> list[dict]:
    """Demo ground truth: per planted concept, its feature and whether its flip was found.

    As in the per-dataset planted recovery, a concept's feature is the one whose signed
    activation correlates most in absolute value with the concept's A-minus-B indicator, here
    over the pooled rows of every dataset. ``flip_planted`` says whether two datasets' planted
    weights have opposite signs; ``flip_found`` whether that feature flips between them.
    """
    from prefscope.report.recovery import corr_columns

    names = list(dict.fromkeys(pooled.get_column("dataset").to_list()))
    first = truths[names[0]]
    flips = differences.filter(pl.col("sign_flip"))
    out = []
    for concept in first["concepts"]:
        target = np.concatenate(
            [concepts[n].get_column(f"{concept}_delta").to_numpy().astype(float) for n in names]
        )
        r = corr_columns(codes.astype(float), target)
        best = int(np.argmax(np.abs(r)))
        direction = float(np.sign(r[best])) or 1.0
        weights = {n: float(truths[n]["weights"][concept]) for n in names}
        effect = {}
        for n in names:
            row = effects.filter((pl.col("dataset") == n) & (pl.col("feature") == best))
            coef = row.get_column("coef")[0] if row.height else None
            effect[n] = None if coef is None else float(coef) * direction
        planted = [
            (a, b) for a, b in itertools.combinations(names, 2) if weights[a] * weights[b] < 0
        ]
        found = flips.filter(pl.col("feature") == best)
        found_pairs = list(
            zip(
                found.get_column("dataset_a").to_list(),
                found.get_column("dataset_b").to_list(),
                strict=True,
            )
        )
        out.append(
            {
                "concept": concept,
                "true_weights": weights,
                "best_feature": best,
                "correlation": float(r[best]),
                "label_effects": effect,
                "flip_planted": [list(p) for p in planted],
                "flip_found": [list(p) for p in found_pairs],
                "correct": sorted(planted) == sorted(found_pairs),
            }
        )
    return out
