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


def _ci(d: dict[str, Any]) -> str:
    lo, hi = d["ci95"]
    return f"{_fmt(d['difference'])} [{_fmt(lo)}, {_fmt(hi)}]"


def _tau_n_p(k: dict[str, Any]) -> str:
    return f"{_fmt(k['tau'])} (n = {k['n_words']}, p = {_p(k['p'])})"


def _ablation_verdict(m: dict[str, Any]) -> str:
    """One sentence: does zeroing the relevant features do more than matched random ones?"""
    lo, hi = m["paired_ci"]["ablated_minus_random"]["ci95"]
    beyond = lo is not None and (lo > 0 or hi < 0)
    if beyond and m["empirical_p_two_sided"] < 0.05:
        return "the relevant-feature ablation is distinguishable from matched random ablations"
    return (
        "the relevant-feature ablation is indistinguishable from firing-rate-matched random "
        "ablations (ablated - random CI contains 0 or empirical p >= 0.05)"
    )


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
    base = summary.get("base_model")
    if summary["task"] == "vader":
        k, b, s = summary["kendall"], summary["baseline_kendall"], summary["sign_accuracy"]
        w, so = summary["within_sign_kendall"], summary["sign_only_baseline_kendall"]
        lines += [
            "## Probe (Ridge on activation deltas, held-out words)",
            "",
            f"**Within-sign Kendall tau: positive words {_tau_n_p(w['positive'])}, negative "
            f"words {_tau_n_p(w['negative'])}.**",
            "",
            f"- pooled Kendall tau {_fmt(k['tau'])} (p = {_p(k['p'])}, {k['n_words']} words) "
            f"against the sign-only baseline {_fmt(so['tau'])} (a predictor that outputs only "
            f"the sign of the lexicon value); untrained Xavier probe {_fmt(b['tau'])} "
            f"(p = {_p(b['p'])})",
            f"- sign accuracy: positive words {_fmt(s['positive'])}, negative words "
            f"{_fmt(s['negative'])}",
        ]
        if k["tau"] is not None and so["tau"] is not None and k["tau"] <= so["tau"]:
            lines.append(
                "- the pooled tau does not beat the sign-only baseline: it measures the sign "
                "of a word's valence, not its ranking"
            )
        if base:
            rows = [
                ("pooled", base["kendall"]),
                ("positive words", base["within_sign_kendall"]["positive"]),
                ("negative words", base["within_sign_kendall"]["negative"]),
            ]
            lines += [
                "",
                "## Base-model control (same texts, triples, SAEs and probe recipe, pre-RL model)",
                "",
                "| tau | policy | base | policy - base [95% paired bootstrap CI] | words |",
                "|---|---|---|---|---|",
                *[
                    f"| {name} | {_fmt(d['tau_policy'])} | {_fmt(d['tau_base'])} | {_ci(d)} | "
                    f"{d['n_words']} |"
                    for name, d in rows
                ],
                "",
                base["statement"],
            ]
        ab = summary["ablation"]
        a = ab["mean_reward"]
        lines += [
            "",
            "## Ablation (mean VADER reward of sampled completions)",
            "",
            "| original | spliced SAEs | relevant features zeroed | random features zeroed |",
            "|---|---|---|---|",
            f"| {_fmt(a['original'])} | {_fmt(a['spliced'])} | {_fmt(a['ablated'])} | "
            f"{_fmt(a['random'])} |",
        ]
        m = (ab.get("controls") or {}).get("matched_random")
        if m:
            r, ci = m["random_reward"], m["paired_ci"]
            lines += [
                "",
                f"- {m['n_draws']} draws of firing-rate-matched random live features: mean "
                f"reward {_fmt(r['mean'])} (2.5-97.5%: {_fmt(r['q2.5'])} to {_fmt(r['q97.5'])}); "
                f"the relevant ablation's {_fmt(a['ablated'])} has empirical p = "
                f"{_p(m['empirical_p'])} (lower tail; two-sided {_p(m['empirical_p_two_sided'])})",
                f"- paired over completions (same seeds), 95% CI: ablated - spliced "
                f"{_ci(ci['ablated_minus_spliced'])}, random - spliced "
                f"{_ci(ci['random_minus_spliced'])}, ablated - random "
                f"{_ci(ci['ablated_minus_random'])}",
                f"- {_ablation_verdict(m)}",
            ]
    else:
        lines += [
            "## Probe",
            "",
            f"- logistic accuracy (held-out pairs): {_fmt(summary['logistic_accuracy'])}",
        ]
        if base:
            d = base["accuracy_test"]
            lines += [
                f"- base-model control: policy {_fmt(d['accuracy_policy'])}, base "
                f"{_fmt(d['accuracy_base'])}, policy - base {_ci(d)} (paired bootstrap over "
                f"{d['n']} held-out pairs)",
                "",
                base["statement"],
            ]
    t7 = summary["table7"]
    lines += [
        "",
        "## Feature firing on high-feedback inputs (Table 7)",
        "",
        f"- {t7['n_high_inputs']} high inputs; relevant features fire "
        f"{_fmt(t7['relevant_feature_high'])}, the average feature "
        f"{_fmt(t7['average_feature_high'])} ({t7['n_relevant_features']} relevant features)",
    ]
    mc = t7.get("matched_control")
    if mc and mc.get("n_pairs"):
        lines.append(
            f"- control: {mc['n_pairs']} firing-rate-matched non-relevant features fire "
            f"{_fmt(mc['matched_high'])} on them (relevant {_fmt(mc['relevant_high'])}); "
            f"difference {_fmt(mc['difference'])}, permutation p = {_p(mc['p'])}: relevant "
            + (
                "features fire more often on them than matched ones"
                if mc["p"] is not None and mc["p"] < 0.05
                else "features do not fire more often on them than firing-rate-matched ones"
            )
        )
    lines.append("")
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
