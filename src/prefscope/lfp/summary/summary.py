"""One summary per RLHF run: summary.json (machine-readable) and summary.md (for people)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from prefscope.io import read_json
from prefscope.lfp import metrics

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def word_counts(texts: Sequence[str]) -> Counter[str]:
    """Lower-cased word occurrences over ``texts``."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_WORD.findall(text.lower()))
    return counts


def error_vs_count(per_word: Any, completions: Sequence[str]) -> dict[str, Any]:
    """|prediction − lexicon value| per test word against its count in RL completions."""
    from scipy.stats import spearmanr

    counts = word_counts(completions)
    pred = dict(zip(per_word["word"].to_list(), per_word["pred"].to_list(), strict=True))
    true = dict(zip(per_word["word"].to_list(), per_word["value"].to_list(), strict=True))
    errors = metrics.abs_errors(pred, true)
    words = sorted(errors)
    c = np.array([counts.get(w, 0) for w in words], dtype=float)
    e = np.array([errors[w] for w in words], dtype=float)
    rho = None
    if len(words) > 2 and np.ptp(c) > 0 and np.ptp(e) > 0:
        rho = float(spearmanr(c, e).statistic)
    return {
        "words": words,
        "counts": c.tolist(),
        "abs_errors": e.tolist(),
        "spearman_error_vs_count": rho,
        "n_completions": len(completions),
    }


def _sae_metrics(small: dict[str, Any], big: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in small["layers"]:
        out[layer] = {
            "small": small["layers"][layer],
            "big": big["layers"].get(layer),
        }
    return out


def build_summary(inputs: dict[str, Any], task: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Collect every stage's numbers; returns (summary, frequency data for the plot)."""
    import polars as pl

    rlhf = read_json(inputs["rlhf"])
    divergence = read_json(inputs["divergence"])
    overlap = read_json(inputs["overlap"])
    probe = read_json(inputs["probe"])
    validation = read_json(inputs["validation"])
    summary: dict[str, Any] = {
        "task": task,
        "rlhf": rlhf,
        "divergence": divergence,
        "chosen_layers": overlap["layers"],
        "sae": _sae_metrics(
            read_json(Path(inputs["sae_small"]) / "metrics.json"),
            read_json(Path(inputs["sae_big"]) / "metrics.json"),
        ),
        "mmcs": {k: v["mmcs"] for k, v in overlap["per_layer"].items()},
        "n_overlapping_features": {k: len(v["features"]) for k, v in overlap["per_layer"].items()},
        "probe": probe,
        "validation": validation,
        "table7": validation["table7"],
    }
    freq: dict[str, Any] = {}
    base_model = (probe.get("controls") or {}).get("base_model")
    controls: dict[str, Any] = {"base_model": _compact_base(base_model)}
    if validation["table7"].get("matched_control"):
        controls["table7_matched_features"] = validation["table7"]["matched_control"]
    summary["controls"] = controls
    summary["base_model"] = base_model
    if task == "vader":
        summary["kendall"] = probe["kendall"]
        summary["within_sign_kendall"] = probe["within_sign_kendall"]
        summary["sign_only_baseline_kendall"] = probe["sign_only_baseline_kendall"]
        summary["baseline_kendall"] = probe["baseline_kendall"]
        summary["sign_accuracy"] = probe["sign_accuracy"]
        summary["negative_only_kendall"] = probe["negative_only_kendall"]
        controls["within_sign_kendall"] = probe["within_sign_kendall"]
        controls["sign_only_baseline_kendall"] = probe["sign_only_baseline_kendall"]
        ablation = read_json(inputs["ablation"])
        summary["ablation"] = ablation
        matched = (ablation.get("controls") or {}).get("matched_random")
        if matched:
            controls["ablation_matched_random"] = {
                k: matched[k]
                for k in (
                    "n_draws",
                    "random_reward",
                    "empirical_p",
                    "empirical_p_two_sided",
                    "paired_ci",
                    "firing_rate",
                )
            }
        comps = pl.read_parquet(inputs["completions"])
        original = comps.filter(pl.col("condition") == "original")["completion"].to_list()
        freq = error_vs_count(pl.read_parquet(inputs["per_word"]), original)
        summary["error_vs_count"] = {
            k: freq[k] for k in ("spearman_error_vs_count", "n_completions")
        }
    else:
        summary["logistic_accuracy"] = probe["accuracy_test"]
    return summary, freq


def _compact_base(base: dict[str, Any] | None) -> dict[str, Any] | None:
    """The base-model control without the base probe's full metrics (those stay in probe)."""
    if not base:
        return None
    return {k: v for k, v in base.items() if k != "probe"}
