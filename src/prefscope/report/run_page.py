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
    esc,
    extras,
    fmt,
    inline_png,
    is_missing,
    kv_table,
    page,
    render_value,
    table,
)
from prefscope.report.run_ablation import ablation_section, table7_section
from prefscope.report.run_features import features_section
from prefscope.report.run_probe import probe_section

N_EXAMPLES = 6  # example completions before / after


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
