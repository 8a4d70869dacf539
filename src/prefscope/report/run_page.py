"""``results/lfp/<run>/report.html``: one branch-L run on one page.

Built from the run's ``summary.json`` (which already holds the fine-tune record, divergence,
SAE metrics, probe, validation and ablation), ``probe/explanations.json`` (explained features
with the contexts they were explained from), the ablation completions and the run's PNG
figures (embedded as ``data:`` URIs). Fields the page does not lay out itself are listed under
"more fields", so controls added to a stage's JSON appear without a page change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from prefscope.report.page import (
    Markup,
    cell,
    ci,
    esc,
    extras,
    filter_controls,
    fmt,
    inline_png,
    is_missing,
    kv_table,
    page,
    render_value,
    table,
)

N_EXAMPLES = 6  # example completions before / after
MAX_CONTEXTS = 5  # top-activating contexts shown per feature


def _scalars(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not isinstance(v, dict | list)}


def finetune_section(summary: dict[str, Any]) -> str:
    rlhf = summary.get("rlhf") or {}
    ev = rlhf.get("evaluation") or {}
    before, after = ev.get("before") or {}, ev.get("after") or {}
    metrics = [k for k in {**_scalars(before), **_scalars(after)} if k != "n"]
    rows = []
    for k in metrics:
        b, a = before.get(k), after.get(k)
        delta = a - b if isinstance(a, int | float) and isinstance(b, int | float) else None
        rows.append([cell(k), cell(b), cell(a), cell(delta)])
    settings = rlhf.get("settings") or {}
    out = [
        "<h2 id='finetune'>Fine-tune</h2>",
        kv_table(
            [
                (
                    "algorithm",
                    Markup(
                        f"{esc(rlhf.get('algorithm'))} "
                        f"<span class='mute'>({esc(rlhf.get('trainer'))})</span>"
                    ),
                ),
                ("base model", rlhf.get("base_model")),
                ("reward", rlhf.get("reward_function")),
                ("evaluation", ev.get("metric")),
                ("train time (s)", rlhf.get("train_runtime_s")),
                ("device", rlhf.get("device")),
            ]
        ),
        f"<p>Before → after (same seeds, n = {fmt(ev.get('n') or before.get('n'))}):</p>",
        table(["metric", "before", "after", "change"], rows, table_id="finetune-table"),
        "<details><summary>settings</summary>"
        + kv_table([(k, Markup(render_value(v))) for k, v in settings.items()])
        + "</details>",
    ]
    out.append(extras(ev, ("metric", "before", "after", "n", "seed", "delta")))
    mapping = rlhf.get("paper_mapping")
    if mapping:
        out.append(
            "<details><summary>how the paper's settings map here</summary>"
            f"{render_value(mapping)}</details>"
        )
    out.append(_completion_examples(before.get("examples") or [], after.get("examples") or []))
    return "".join(out)


def _completion_examples(before: list[dict], after: list[dict]) -> str:
    """Example completions before and after the fine-tune, side by side by prompt."""
    if not before and not after:
        return ""
    n = min(N_EXAMPLES, max(len(before), len(after)))
    rows = []
    for i in range(n):
        b = before[i] if i < len(before) else {}
        a = after[i] if i < len(after) else {}
        prompt = b.get("prefix", b.get("prompt", a.get("prefix", a.get("prompt"))))
        rows.append(
            [
                cell(prompt),
                f"<td class='ctx'>{esc(b.get('completion', render_plain(b)))}</td>",
                cell(b.get("reward")),
                f"<td class='ctx'>{esc(a.get('completion', render_plain(a)))}</td>",
                cell(a.get("reward")),
            ]
        )
    return (
        "<details open><summary>example completions</summary>"
        + table(["prompt", "before", "reward", "after", "reward"], rows, sortable=False)
        + "</details>"
    )


def render_plain(record: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in record.items() if k not in ("prefix", "prompt"))


def divergence_section(summary: dict[str, Any], figure: str | Path | None) -> str:
    div = summary.get("divergence") or {}
    chosen = set(summary.get("chosen_layers") or div.get("chosen_layers") or [])
    rank_by = div.get("rank_by", "all_l2")
    rows = [
        [
            cell(r.get("layer")),
            cell("yes" if r.get("layer") in chosen else ""),
            cell(r.get("all_l2")),
            cell(r.get("mlp_l2")),
        ]
        for r in div.get("layers", [])
    ]
    fig = inline_png(figure, "Per-layer parameter change; chosen layers marked.") if figure else ""
    return (
        "<h2 id='divergence'>Which layers changed</h2>"
        f"<p class='mute'>{esc(div.get('measure'))}; ranked by {esc(rank_by)}; chosen layers "
        f"{esc(sorted(chosen))}.</p>"
        f"<div class='figs'><div>{table(['layer', 'chosen', 'all L2', 'MLP L2'], rows)}</div>"
        f"{fig}</div>"
    )


def sae_section(summary: dict[str, Any]) -> str:
    rows = []
    mmcs = summary.get("mmcs") or {}
    overlap = summary.get("n_overlapping_features") or {}
    for layer, sizes in (summary.get("sae") or {}).items():
        for size, m in sizes.items():
            if not m:
                continue
            dead = m.get("dead_fraction")
            rows.append(
                [
                    cell(int(layer) if str(layer).isdigit() else layer),
                    cell(size),
                    cell(m.get("n_latents")),
                    cell(m.get("fvu")),
                    cell(m.get("l0")),
                    cell(None if is_missing(dead) else 100 * dead),
                    cell(mmcs.get(layer)),
                    cell(overlap.get(layer)),
                ]
            )
    head = [
        "layer",
        "size",
        "latents",
        "FVU",
        "L0",
        "dead %",
        "MMCS small↔big",
        "overlapping features",
    ]
    return "<h2 id='sae'>SAEs per chosen layer</h2>" + table(head, rows, table_id="sae-table")


_PROBE_LAYOUT = (
    "kendall",
    "within_sign_kendall",
    "sign_only_baseline_kendall",
    "controls",
    "baseline_kendall",
    "sign_accuracy",
    "negative_only_kendall",
    "accuracy_test",
    "accuracy_train",
    "majority_baseline_test",
)


def probe_section(
    summary: dict[str, Any], pca: str | Path | None, error_plot: str | Path | None
) -> str:
    probe = summary.get("probe") or {}
    rows = []
    k, b = probe.get("kendall"), probe.get("baseline_kendall")
    within = probe.get("within_sign_kendall")
    if isinstance(within, dict):  # the headline: pooled τ rewards the sign alone
        for sign in ("positive", "negative"):
            w = within.get(sign) or {}
            rows.append(
                (
                    f"Kendall τ within {sign} words (held-out)",
                    Markup(
                        f"<b>{fmt(w.get('tau'))}</b> (p = {fmt(w.get('p'), 2)}, "
                        f"{fmt(w.get('n_words'))} words)"
                    ),
                )
            )
    if isinstance(k, dict):
        rows.append(
            (
                "Kendall τ, probe vs lexicon (held-out words)",
                Markup(
                    f"<b>{fmt(k.get('tau'))}</b> (p = {fmt(k.get('p'), 2)}, "
                    f"{fmt(k.get('n_words'))} words)"
                ),
            )
        )
    so = probe.get("sign_only_baseline_kendall")
    if isinstance(so, dict):
        rows.append(
            ("control: sign-only baseline (outputs sign of lexicon value), τ", so.get("tau"))
        )
    base = (probe.get("controls") or {}).get("base_model") or {}
    for label, d in (
        ("pooled τ", base.get("kendall")),
        ("τ within positive words", (base.get("within_sign_kendall") or {}).get("positive")),
        ("τ within negative words", (base.get("within_sign_kendall") or {}).get("negative")),
        ("held-out accuracy", base.get("accuracy_test")),
    ):
        if isinstance(d, dict):
            pol = d.get("tau_policy", d.get("accuracy_policy"))
            bas = d.get("tau_base", d.get("accuracy_base"))
            rows.append(
                (
                    f"control: base model, {label} (policy / base, difference [95% CI])",
                    Markup(
                        f"{fmt(pol)} / {fmt(bas)}, {fmt(d.get('difference'))} "
                        f"{ci(*(d.get('ci95') or [None, None]))}"
                    ),
                )
            )
    if base.get("statement"):
        rows.append(("base-model control, in words", base.get("statement")))
    if isinstance(b, dict):
        rows.append(
            (
                "control: untrained Xavier-initialised probe, τ",
                Markup(f"{fmt(b.get('tau'))} (p = {fmt(b.get('p'), 2)})"),
            )
        )
    s = probe.get("sign_accuracy")
    if isinstance(s, dict):
        rows.append(
            (
                "sign accuracy (positive / negative words)",
                Markup(f"{fmt(s.get('positive'))} / {fmt(s.get('negative'))}"),
            )
        )
    n = probe.get("negative_only_kendall")
    if isinstance(n, dict):
        rows.append(
            ("τ on negative words only", Markup(f"{fmt(n.get('tau'))} (p = {fmt(n.get('p'), 2)})"))
        )
    if "accuracy_test" in probe:
        rows.append(("logistic accuracy, held-out pairs", probe.get("accuracy_test")))
        rows.append(("control: majority class, held-out", probe.get("majority_baseline_test")))
        rows.append(("logistic accuracy, train", probe.get("accuracy_train")))
    shown = {
        "within_sign_kendall",
        "sign_only_baseline_kendall",
        "base_model",
        "ablation_matched_random",
        "table7_matched_features",
    }
    controls = {k: v for k, v in (summary.get("controls") or {}).items() if k not in shown}
    figs = "".join(
        inline_png(f, c)
        for f, c in (
            (pca, "Probe inputs on their first two principal components."),
            (error_plot, "Probe |error| per word vs how often the policy generates it."),
        )
        if f
    )
    return (
        "<h2 id='probe'>Probe: does the model represent the feedback?</h2>"
        + kv_table(rows)
        + (f"<p>Controls:</p>{render_controls(controls)}" if controls else "")
        + extras(probe, _PROBE_LAYOUT)
        + f"<div class='figs'>{figs}</div>"
    )


def render_controls(controls: Any) -> str:
    """Controls added by other stages: a dict of name -> record, shown as a table."""
    if isinstance(controls, dict):
        return kv_table([(k, Markup(render_value(v))) for k, v in controls.items()])
    return render_value(controls)


def _highlight(context: list) -> str:
    """Words of one context, each shaded by its activation level (0-10)."""
    out = []
    for item in context:
        word, level = (item[0], item[1]) if isinstance(item, list | tuple) else (item, 0)
        lv = max(0, min(10, int(level or 0)))
        if lv:
            out.append(
                f"<mark style='background:rgba(255,140,0,{lv / 10:.1f})' "
                f"title='level {lv}'>{esc(word)}</mark>"
            )
        else:
            out.append(esc(word))
    return "".join(out)


_FEATURE_LAYOUT = (
    "layer",
    "small",
    "big",
    "cosine",
    "explanation",
    "simulation_score",
    "relevant",
    "firing_rate",
    "max_activation",
    "top_contexts",
)


def features_section(explanations: dict[str, Any]) -> str:
    feats = explanations.get("features") or []
    groups = []
    head = [
        "layer",
        "feature",
        "explanation",
        "simulation score",
        "relevant",
        "firing rate",
        "max activation",
    ]
    for f in feats:
        relevant = bool(f.get("relevant"))
        contexts = (f.get("top_contexts") or [])[:MAX_CONTEXTS]
        ctx = (
            "".join(f"<div class='ctx'>{_highlight(c)}</div>" for c in contexts)
            or "<p class='mute'>(no contexts recorded)</p>"
        )
        main = "".join(
            [
                cell(f.get("layer")),
                cell(f.get("small")),
                cell(f.get("explanation"), cls="sig" if relevant else ""),
                cell(f.get("simulation_score")),
                cell(relevant),
                cell(f.get("firing_rate")),
                cell(f.get("max_activation")),
            ]
        )
        detail = (
            f"<tr class='more'><td colspan='{len(head)}'><details><summary>top-activating "
            f"contexts (matched big-SAE feature {fmt(f.get('big'))}, cosine "
            f"{fmt(f.get('cosine'))})</summary><div class='inner'>{ctx}"
            f"{extras(f, _FEATURE_LAYOUT)}</div></details></td></tr>"
        )
        groups.append((f"data-sig='{int(relevant)}'", f"<tr>{main}</tr>{detail}"))
    return (
        "<h2 id='features'>Explained features</h2>"
        f"<p class='mute'>Overlapping features (small and big SAE agree) explained from "
        f"token-level activations with the {esc(explanations.get('backend'))} backend; "
        "relevant ones (to the task) in red. Words are shaded by activation (0-10).</p>"
        + filter_controls("lfp-features", only="relevant only", placeholder="filter explanations")
        + table(head, [], table_id="lfp-features", groups=groups)
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


def run_page(
    summary: dict[str, Any],
    explanations: dict[str, Any],
    *,
    completions: pl.DataFrame | None = None,
    figures: dict[str, str | Path | None] | None = None,
) -> str:
    """The whole page of one run (``figures``: divergence, pca, error_vs_count PNG paths)."""
    figures = figures or {}
    run = summary.get("run", "")
    body = [
        f"<h1>Learned feedback patterns: run <q>{esc(run)}</q></h1>",
        f"<p>Task {esc(summary.get('task'))}; chosen layers "
        f"{esc(summary.get('chosen_layers'))}. <a href='#finetune'>fine-tune</a> · "
        "<a href='#probe'>probe</a> · <a href='#features'>features</a> · "
        "<a href='#ablation'>ablation</a></p>",
        finetune_section(summary),
        divergence_section(summary, figures.get("divergence")),
        sae_section(summary),
        probe_section(summary, figures.get("pca"), figures.get("error_vs_count")),
        features_section(explanations),
        ablation_section(summary, completions),
        table7_section(summary),
    ]
    return page(f"prefscope: {run}", body, nav="<a href='../../index.html'>all results</a>")
