"""One summary per RLHF run: summary.json (machine-readable) and summary.md (for people)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from prefscope.io import read_json, write_json, write_text
from prefscope.lfp_probe import metrics

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
        "n_overlapping_features": {
            k: len(v["features"]) for k, v in overlap["per_layer"].items()
        },
        "probe": probe,
        "validation": validation,
        "table7": validation["table7"],
    }
    freq: dict[str, Any] = {}
    if task == "vader":
        summary["kendall"] = probe["kendall"]
        summary["baseline_kendall"] = probe["baseline_kendall"]
        summary["sign_accuracy"] = probe["sign_accuracy"]
        summary["negative_only_kendall"] = probe["negative_only_kendall"]
        ablation = read_json(inputs["ablation"])
        summary["ablation"] = ablation
        comps = pl.read_parquet(inputs["completions"])
        original = comps.filter(pl.col("condition") == "original")["completion"].to_list()
        freq = error_vs_count(pl.read_parquet(inputs["per_word"]), original)
        summary["error_vs_count"] = {
            k: freq[k] for k in ("spearman_error_vs_count", "n_completions")
        }
    else:
        summary["logistic_accuracy"] = probe["accuracy_test"]
    return summary, freq


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _p(value: Any) -> str:
    """A p-value readable at any size (4.0e-07, not 0.000)."""
    return "n/a" if value is None else f"{value:.2g}"


def markdown(summary: dict[str, Any]) -> str:
    """A short human-readable report of the run."""
    lines = [f"# Learned feedback patterns — task `{summary['task']}`", ""]
    lines.append(f"Chosen layers: {summary['chosen_layers']}")
    lines += ["", "| layer | size | FVU | L0 | dead % | MMCS |", "|---|---|---|---|---|---|"]
    for layer, sizes in summary["sae"].items():
        for size, m in sizes.items():
            if m is None:
                continue
            lines.append(
                f"| {layer} | {size} ({m.get('n_latents')}) | {_fmt(m.get('fvu'))} | "
                f"{_fmt(m.get('l0'), 1)} | {_fmt(100 * m.get('dead_fraction', 0.0), 1)} | "
                f"{_fmt(summary['mmcs'].get(layer))} |"
            )
    lines.append("")
    if summary["task"] == "vader":
        k, b, s, n = (summary["kendall"], summary["baseline_kendall"], summary["sign_accuracy"],
                      summary["negative_only_kendall"])
        lines += [
            "## Probe (Ridge on activation deltas, held-out words)",
            "",
            f"- Kendall tau {_fmt(k['tau'])} (p = {_p(k['p'])}, {k['n_words']} words); "
            f"untrained Xavier baseline {_fmt(b['tau'])} (p = {_p(b['p'])})",
            f"- sign accuracy: positive words {_fmt(s['positive'])}, negative words "
            f"{_fmt(s['negative'])}",
            f"- negative words only: tau {_fmt(n['tau'])} (p = {_p(n['p'])})",
        ]
        a = summary["ablation"]["mean_reward"]
        lines += [
            "",
            "## Ablation (mean VADER reward of sampled completions)",
            "",
            "| original | spliced SAEs | relevant features zeroed | random features zeroed |",
            "|---|---|---|---|",
            f"| {_fmt(a['original'])} | {_fmt(a['spliced'])} | {_fmt(a['ablated'])} | "
            f"{_fmt(a['random'])} |",
        ]
    else:
        lines += ["## Probe", "", f"- logistic accuracy (held-out pairs): "
                  f"{_fmt(summary['logistic_accuracy'])}"]
    t7 = summary["table7"]
    lines += [
        "",
        "## Feature firing on high-feedback inputs (Table 7)",
        "",
        f"- {t7['n_high_inputs']} high inputs; relevant features fire "
        f"{_fmt(t7['relevant_feature_high'])}, the average feature "
        f"{_fmt(t7['average_feature_high'])} ({t7['n_relevant_features']} relevant features)",
        "",
    ]
    return "\n".join(lines)


def stage(inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int):
    """Every branch-L output of a run -> summary.json, summary.md, error_vs_count.png."""
    from prefscope.lfp_probe.plots import error_vs_count_plot

    summary, freq = build_summary(inputs, params["task"])
    summary["run"] = params["run"]
    write_json(outputs["summary"], summary)
    write_text(outputs["markdown"], markdown(summary))
    error_vs_count_plot(
        freq.get("counts", []),
        freq.get("abs_errors", []),
        f"{params['run']}: |error| vs generation count",
        Path(outputs["plot"]),
    )
