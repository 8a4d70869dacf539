"""summary.md: a branch-L run for people, section by section (summary.json is the data)."""

from __future__ import annotations

from typing import Any


def markdown(summary: dict[str, Any]) -> str:
    """A short human-readable report of the run."""
    lines = [f"# Learned feedback patterns — task `{summary['task']}`", ""]
    lines += sae_lines(summary)
    if summary["task"] == "vader":
        lines += vader_probe_lines(summary) + base_control_lines(summary.get("base_model"))
        lines += ablation_lines(summary["ablation"])
    else:
        lines += pair_probe_lines(summary)
    lines += table7_lines(summary["table7"])
    lines.append("")
    return "\n".join(lines)


def sae_lines(summary: dict[str, Any]) -> list[str]:
    """Chosen layers and the SAE quality table (FVU, L0, dead share, MMCS)."""
    lines = [f"Chosen layers: {summary['chosen_layers']}"]
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
    return lines


def vader_probe_lines(summary: dict[str, Any]) -> list[str]:
    """The Ridge probe's within-sign and pooled Kendall tau beside its baselines."""
    k, b, s = summary["kendall"], summary["baseline_kendall"], summary["sign_accuracy"]
    w, so = summary["within_sign_kendall"], summary["sign_only_baseline_kendall"]
    lines = [
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
    return lines


def base_control_lines(base: dict[str, Any] | None) -> list[str]:
    """The pre-RL model through the same recipe: what the fine-tune adds to the tau."""
    if not base:
        return []
    rows = [
        ("pooled", base["kendall"]),
        ("positive words", base["within_sign_kendall"]["positive"]),
        ("negative words", base["within_sign_kendall"]["negative"]),
    ]
    return [
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


def ablation_lines(ab: dict[str, Any]) -> list[str]:
    """Mean reward per ablation arm, and where the relevant ablation falls among random ones."""
    a = ab["mean_reward"]
    lines = [
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
    return lines


def pair_probe_lines(summary: dict[str, Any]) -> list[str]:
    """The logistic probe's held-out accuracy, with the base-model control."""
    lines = [
        "## Probe",
        "",
        f"- logistic accuracy (held-out pairs): {_fmt(summary['logistic_accuracy'])}",
    ]
    base = summary.get("base_model")
    if base:
        d = base["accuracy_test"]
        lines += [
            f"- base-model control: policy {_fmt(d['accuracy_policy'])}, base "
            f"{_fmt(d['accuracy_base'])}, policy - base {_ci(d)} (paired bootstrap over "
            f"{d['n']} held-out pairs)",
            "",
            base["statement"],
        ]
    return lines


def table7_lines(t7: dict[str, Any]) -> list[str]:
    """Paper Table 7: relevant-feature firing on high-feedback inputs, with its matched control."""
    lines = [
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
    return lines


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
