"""``results/index.html``: the entry page of one workflow run.

One card per dataset (AUC with CI, significant features, planted-concept recovery), per
branch-L run (reward or accuracy before → after, within-sign Kendall τ, the base-model
control, ablation and Table 7 beside their matched-random controls) and,
with two or more datasets, the cross-dataset comparison; each links to its own page. Built
from the ``summary.json`` files only, so it is cheap and rebuilt whenever one changes.
"""

from __future__ import annotations

from typing import Any

from prefscope.report.dataset_page import auc_name
from prefscope.report.page import Markup, ci, esc, fmt, kv_table, page, render_value


def _best_auc(auc: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The SAE row a reader looks for first: all features, else the first row."""
    if not auc:
        return None
    key = "sae_all" if "sae_all" in auc else next(iter(auc))
    return key, auc[key]


def dataset_card(name: str, s: dict[str, Any]) -> str:
    items: list[tuple[str, Any]] = [("pairs", (s.get("data") or {}).get("n_rows"))]
    best = _best_auc(s.get("auc") or {})
    if best:
        key, row = best
        items.append(
            (
                f"held-out AUC, {auc_name(key)}",
                Markup(
                    f"<span class='big'>{fmt(row.get('val_auc'))}</span> "
                    f"{ci(row.get('ci_low'), row.get('ci_high'))}"
                ),
            )
        )
    length = (s.get("auc") or {}).get("controls")
    if length:
        items.append(
            (
                "control: length only",
                Markup(
                    f"{fmt(length.get('val_auc'))} "
                    f"{ci(length.get('ci_low'), length.get('ci_high'))}"
                ),
            )
        )
    items.append(
        (
            "significant features",
            Markup(
                f"<span class='big sig'>{fmt(s.get('n_significant'))}</span> of "
                f"{fmt(s.get('n_features'))}"
            ),
        )
    )
    top = s.get("top_features") or []
    if top:
        items.append(
            (
                "strongest",
                Markup(
                    ", ".join(f"{esc(f.get('label'))} ({fmt(f.get('coef'), 2)})" for f in top[:3])
                ),
            )
        )
    rec = s.get("planted_recovery")
    if rec:
        weighted = [r for r in rec if r.get("true_weight")]
        zero = [r for r in rec if not r.get("true_weight")]
        items.append(
            (
                "planted concepts recovered",
                Markup(
                    f"{sum(bool(r.get('sign_recovered')) for r in weighted)} of "
                    f"{len(weighted)}; false positives "
                    f"{sum(bool(r.get('significant')) for r in zero)} of {len(zero)}"
                ),
            )
        )
    return (
        f"<div class='card dataset' data-name='{esc(name)}'><h3><a href='{esc(name)}/report.html'>"
        f"{esc(name)}</a></h3>{kv_table(items)}</div>"
    )


def _finetune_items(s: dict[str, Any]) -> list[tuple[str, Any]]:
    """Task, algorithm and the evaluation before → after fine-tuning."""
    rlhf = s.get("rlhf") or {}
    ev = rlhf.get("evaluation") or {}
    before, after = ev.get("before") or {}, ev.get("after") or {}
    items: list[tuple[str, Any]] = [
        ("task / algorithm", Markup(f"{esc(s.get('task'))} / {esc(rlhf.get('algorithm'))}")),
    ]
    for key in ("mean_reward", "accuracy", "pair_accuracy", "implicit_reward_accuracy"):
        if key in before or key in after:
            items.append(
                (
                    f"{key.replace('_', ' ')} before → after",
                    Markup(
                        f"{fmt(before.get(key))} → <span class='big'>{fmt(after.get(key))}</span>"
                    ),
                )
            )
    if "implicit_reward_accuracy" in ev:
        items.append(("implicit-reward accuracy", ev.get("implicit_reward_accuracy")))
    return items


def _probe_items(s: dict[str, Any]) -> list[tuple[str, Any]]:
    """Probe headline (within-sign τ), pooled τ and the controls beside them."""
    items: list[tuple[str, Any]] = []
    k = s.get("kendall") or (s.get("probe") or {}).get("kendall")
    within = s.get("within_sign_kendall") or (s.get("probe") or {}).get("within_sign_kendall")
    sign_only = s.get("sign_only_baseline_kendall") or {}
    if isinstance(within, dict):  # the headline: ranking inside a sign, which the sign can't give
        pos, neg = within.get("positive") or {}, within.get("negative") or {}
        items.append(
            (
                "within-sign Kendall τ (positive / negative words)",
                Markup(
                    f"<span class='big'>{fmt(pos.get('tau'))} / {fmt(neg.get('tau'))}</span> "
                    f"(n = {fmt(pos.get('n_words'))} / {fmt(neg.get('n_words'))}, "
                    f"p = {fmt(pos.get('p'), 2)} / {fmt(neg.get('p'), 2)})"
                ),
            )
        )
    if isinstance(k, dict):
        items.append(
            (
                "pooled τ (control: sign-only baseline)",
                Markup(f"{fmt(k.get('tau'))} ({fmt(sign_only.get('tau'))})"),
            )
        )
    base_model = s.get("base_model") or {}
    diff = base_model.get("kendall") or base_model.get("accuracy_test")
    if diff:
        what = "τ" if "kendall" in base_model else "accuracy"
        items.append(
            (
                f"control: base model, policy − base {what}",
                Markup(
                    f"{fmt(diff.get('difference'))} {ci(*diff.get('ci95', [None, None]))}"
                    f"<br><span class='mute'>{esc(base_model.get('statement'))}</span>"
                ),
            )
        )
    shown = {
        "base_model",
        "within_sign_kendall",
        "sign_only_baseline_kendall",
        "ablation_matched_random",
        "table7_matched_features",
    }
    for key, value in (s.get("controls") or {}).items():
        if key not in shown:
            items.append((f"control: {key}", Markup(render_value(value))))
    if "logistic_accuracy" in s:
        items.append(
            (
                "logistic probe accuracy",
                Markup(
                    f"<span class='big'>{fmt(s.get('logistic_accuracy'))}</span> (majority "
                    f"{fmt((s.get('probe') or {}).get('majority_baseline_test'))})"
                ),
            )
        )
    return items


def _ablation_items(s: dict[str, Any]) -> list[tuple[str, Any]]:
    """Ablation and Table 7, each with its matched-random control."""
    items: list[tuple[str, Any]] = []
    ab = (s.get("ablation") or {}).get("mean_reward")
    if ab:
        items.append(
            (
                "reward: spliced → relevant zeroed / random zeroed",
                Markup(
                    f"{fmt(ab.get('spliced'))} → {fmt(ab.get('ablated'))} / {fmt(ab.get('random'))}"
                ),
            )
        )
    matched = (s.get("controls") or {}).get("ablation_matched_random")
    if matched:
        r = matched.get("random_reward") or {}
        items.append(
            (
                f"control: {matched.get('n_draws')} matched random ablations",
                Markup(
                    f"2.5–97.5% {ci(r.get('q2.5'), r.get('q97.5'))}; relevant ablation "
                    f"p = {fmt(matched.get('empirical_p'), 2)}"
                ),
            )
        )
    t7 = (s.get("controls") or {}).get("table7_matched_features")
    if t7 and t7.get("n_pairs"):
        items.append(
            (
                "Table 7: relevant vs matched features firing on high inputs",
                Markup(
                    f"{fmt(t7.get('relevant_high'))} vs {fmt(t7.get('matched_high'))} "
                    f"(p = {fmt(t7.get('p'), 2)})"
                ),
            )
        )
    return items


def run_card(name: str, s: dict[str, Any]) -> str:
    items = _finetune_items(s) + _probe_items(s) + _ablation_items(s)
    return (
        f"<div class='card run' data-name='{esc(name)}'><h3><a href='lfp/{esc(name)}/report.html'>"
        f"{esc(name)}</a></h3>{kv_table(items)}</div>"
    )


def compare_section(s: dict[str, Any]) -> str:
    """The cross-dataset comparison, shown generically (scalars first, then the rest)."""
    scalars = [(k, v) for k, v in s.items() if not isinstance(v, dict | list)]
    nested = [(k, Markup(render_value(v))) for k, v in s.items() if isinstance(v, dict | list)]
    link = "<p><a href='compare/report.html'>comparison page</a></p>" if s.get("page") else ""
    return (
        "<h2 id='compare'>Across datasets</h2><div class='card compare'>"
        + kv_table(scalars + nested)
        + link
        + "</div>"
    )


def index_page(
    datasets: dict[str, dict[str, Any]],
    runs: dict[str, dict[str, Any]],
    compare: dict[str, Any] | None = None,
) -> str:
    body = [
        "<h1>prefscope results</h1>",
        "<p class='mute'>What the feedback in each dataset rewards (branch W) and what each "
        "fine-tuned model learned from it (branch L). Open a card's title for its page.</p>",
    ]
    if datasets:
        body.append(
            "<h2 id='datasets'>Datasets</h2><div class='cards'>"
            + "".join(dataset_card(n, s) for n, s in datasets.items())
            + "</div>"
        )
    if compare is not None:
        body.append(compare_section(compare))
    if runs:
        body.append(
            "<h2 id='runs'>Learned feedback patterns (branch L runs)</h2>"
            "<div class='cards'>" + "".join(run_card(n, s) for n, s in runs.items()) + "</div>"
        )
    return page("prefscope results", body)
