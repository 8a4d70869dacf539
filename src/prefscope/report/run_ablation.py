"""The ablation and Table 7 sections of a branch-L run's page, each beside its matched
random control.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from prefscope.report.page import (
    Markup,
    cell,
    ci,
    esc,
    extras,
    fmt,
    kv_table,
    table,
)


def ablation_section(summary: dict[str, Any], completions: pl.DataFrame | None) -> str:
    ab = summary.get("ablation")
    if not ab:
        return ""
    rewards = ab.get("mean_reward") or {}
    names = {
        "original": "fine-tuned model",
        "spliced": "SAEs spliced in",
        "ablated": "relevant features zeroed",
        "random": "random features zeroed (control)",
    }
    rows = [[cell(names.get(k, k), sort=k), cell(v)] for k, v in rewards.items()]
    out = [
        "<h2 id='ablation'>Ablation</h2>",
        "<p class='mute'>Mean reward of sampled completions with the SAEs spliced into the "
        f"model; {fmt(ab.get('n_ablated'))} relevant features zeroed.</p>",
        table(["condition", "mean reward"], rows, table_id="ablation-table"),
        kv_table(
            [
                ("ablated − spliced", ab.get("effect_ablated_minus_spliced")),
                ("random − spliced (control)", ab.get("effect_random_minus_spliced")),
                *_matched_rows((ab.get("controls") or {}).get("matched_random")),
            ]
        ),
        extras(
            ab,
            (
                "mean_reward",
                "effect_ablated_minus_spliced",
                "effect_random_minus_spliced",
                "n_ablated",
                "ablated_features",
                "random_features",
                "sampling",
            ),
        ),
    ]
    if completions is not None and completions.height:
        rows = []
        for cond in completions.get_column("condition").unique(maintain_order=True).to_list():
            sub = completions.filter(pl.col("condition") == cond).head(3)
            for r in sub.iter_rows(named=True):
                rows.append(
                    [
                        cell(cond),
                        cell(r.get("prefix")),
                        f"<td class='ctx'>{esc(r.get('completion'))}</td>",
                        cell(r.get("reward")),
                    ]
                )
        out.append(
            "<details><summary>example completions per condition</summary>"
            + table(["condition", "prompt", "completion", "reward"], rows, sortable=False)
            + "</details>"
        )
    return "".join(out)


def _matched_rows(m: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """The ablation's control: R firing-rate-matched random draws and paired CIs."""
    if not m:
        return []
    r, paired = m.get("random_reward") or {}, m.get("paired_ci") or {}
    rows: list[tuple[str, Any]] = [
        (
            f"control: {m.get('n_draws')} draws of firing-rate-matched random live features, "
            "mean reward (2.5–97.5%)",
            Markup(f"{fmt(r.get('mean'))} {ci(r.get('q2.5'), r.get('q97.5'))}"),
        ),
        (
            "empirical p of the relevant ablation (lower tail / two-sided)",
            Markup(f"{fmt(m.get('empirical_p'), 2)} / {fmt(m.get('empirical_p_two_sided'), 2)}"),
        ),
    ]
    for key, d in paired.items():
        rows.append(
            (
                f"{key.replace('_', ' ')} (paired over completions, 95% CI)",
                Markup(f"{fmt(d.get('difference'))} {ci(*(d.get('ci95') or [None, None]))}"),
            )
        )
    return rows


def table7_section(summary: dict[str, Any]) -> str:
    t7 = summary.get("table7")
    if not t7:
        return ""
    rows = [
        ("inputs with high predicted feedback", t7.get("n_high_inputs")),
        ("relevant features firing on them", t7.get("relevant_feature_high")),
        ("average feature firing on them", t7.get("average_feature_high")),
        ("relevant features firing on other inputs", t7.get("relevant_feature_other")),
        ("average feature firing on other inputs", t7.get("average_feature_other")),
        ("relevant features", t7.get("n_relevant_features")),
    ]
    mc = t7.get("matched_control") or {}
    if mc.get("n_pairs"):
        rows += [
            (
                "control: firing-rate-matched non-relevant features firing on them",
                mc.get("matched_high"),
            ),
            (
                "relevant − matched (permutation p, one-sided)",
                Markup(
                    f"{fmt(mc.get('difference'))} (p = {fmt(mc.get('p'), 2)}, "
                    f"{fmt(mc.get('n_pairs'))} pairs)"
                ),
            ),
        ]
    return (
        "<h2 id='table7'>Feature firing on high-feedback inputs (Table 7)</h2>"
        + kv_table(rows)
        + extras(
            t7,
            (
                "n_high_inputs",
                "n_other_inputs",
                "n_relevant_features",
                "relevant_feature_high",
                "average_feature_high",
                "relevant_feature_other",
                "average_feature_other",
            ),
        )
    )
