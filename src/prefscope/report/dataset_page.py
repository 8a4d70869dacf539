"""``results/<ds>/report.html``: everything branch W found in one dataset, on one page.

Built from the report stage's own outputs (the oriented feature table, ``summary.json``, the
two SVG figures) plus the pairs and codes for the examples. Every feature row expands to its
description, the candidate descriptions with their fidelity, the effect with its CI and the
pairs where the feature is strongest (response with more of the feature on the left, the
preferred one outlined). See :mod:`prefscope.report.page` for escaping and self-containment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from prefscope.report.dataset_features import feature_section
from prefscope.report.page import (
    Markup,
    cell,
    ci,
    esc,
    extras,
    fmt,
    html_cell,
    inline_svg,
    is_missing,
    kv_table,
    page,
    render_value,
    table,
)

_AUC_NAMES = {
    "controls": "length only (controls)",
    "embedding": "full embedding difference",
    "sae_all": "all SAE features",
}


def auc_name(key: str) -> str:
    if key in _AUC_NAMES:
        return _AUC_NAMES[key]
    match = re.fullmatch(r"sae_lasso_top(\d+)", key)
    if match:
        return f"Lasso top-{match.group(1)} SAE features"
    return key


def data_section(summary: dict[str, Any]) -> str:
    data = summary.get("data", {})
    known = (
        "n_rows",
        "n_label_A",
        "n_label_B",
        "n_label_other",
        "n_train",
        "n_val",
        "n_duplicate_rows",
    )
    items = [
        ("pairs", data.get("n_rows")),
        (
            "prefer A / prefer B / tie or other",
            Markup(
                f"{fmt(data.get('n_label_A'))} / {fmt(data.get('n_label_B'))} / "
                f"{fmt(data.get('n_label_other'))}"
            ),
        ),
        (
            "train / validation pairs",
            Markup(f"{fmt(data.get('n_train'))} / {fmt(data.get('n_val'))}"),
        ),
        ("repeated pairs (deduplicated)", data.get("n_duplicate_rows")),
        ("embedding model", summary.get("embedding", {}).get("model")),
    ]
    return "<h2 id='data'>Data</h2>" + kv_table(items) + extras(data, known)


def sae_section(summary: dict[str, Any]) -> str:
    sae = summary.get("sae", {})
    cfg = sae.get("config", {})
    val = sae.get("val") or {}
    fid = summary.get("fidelity", {})
    items = [
        (
            "architecture",
            Markup(
                f"{esc(cfg.get('architecture'))}, {fmt(cfg.get('n_latents'))} "
                f"latents, k = {fmt(cfg.get('k'))}" + (", signed" if cfg.get("signed") else "")
            ),
        ),
        ("validation FVU (fraction of variance unexplained)", val.get("fvu")),
        ("validation L0 (active latents per pair)", val.get("l0")),
        (
            "dead latents",
            Markup(f"{fmt(100 * val['dead_fraction'], 3)} %")
            if not is_missing(val.get("dead_fraction"))
            else None,
        ),
        (
            "descriptions kept by fidelity (Bonferroni)",
            Markup(f"{fmt(fid.get('n_kept'))} of {fmt(fid.get('n_features'))}"),
        ),
        ("mean |fidelity r|", fid.get("mean_abs_r")),
    ]
    note = "" if val else "<p class='mute'>No validation pairs, so no held-out FVU.</p>"
    return "<h2 id='sae'>Sparse autoencoder</h2>" + kv_table(items) + note


def auc_section(summary: dict[str, Any], auc_svg: str | Path | None) -> str:
    auc = summary.get("auc", {})
    rows = [
        [
            cell(auc_name(name), sort=name),
            cell(r.get("val_auc")),
            html_cell(ci(r.get("ci_low"), r.get("ci_high")), r.get("ci_low"), "num"),
            cell(r.get("train_auc")),
            cell(r.get("n_features")),
            cell((r.get("gain_over_controls") or {}).get("val_auc")),
        ]
        for name, r in auc.items()
    ]
    head = [
        "predictors",
        "held-out AUC",
        "95% CI",
        "train AUC",
        "features",
        "gain over length only",
    ]
    fig = inline_svg(auc_svg) if auc_svg else ""
    return (
        "<h2 id='auc'>How well do the features predict the label?</h2>"
        "<p class='mute'>Held-out ROC-AUC of logistic models (length is a control in every "
        "model); 95% percentile-bootstrap CI over validation pairs.</p>"
        f"<div class='figs'><div>{table(head, rows, table_id='auc-table')}</div>{fig}</div>"
    )


#: Summary fields the controls section lays out (label shown on the page).
_CONTROL_FIELDS = (
    ("headline", "headline model (decides 'significant' above)"),
    ("n_significant_per_feature", "significant, per-feature (WIMHF) model"),
    ("n_significant_joint", "significant, joint model"),
    ("joint", "joint model fit"),
    ("significance_differs", "features whose significance differs"),
    ("n_tested", "features tested (description passed fidelity)"),
    ("unexplained_features", "unexplained features (failed fidelity, not tested)"),
    ("uncertainty", "uncertainty"),
    ("n_clusters", "clusters (prompt components)"),
    ("planted_false_positives", "planted zero-weight concepts called significant"),
    ("recovery_baselines", "recovery: SAE vs PCA vs ICA, description hit rate"),
)


def controls_section(summary: dict[str, Any]) -> str:
    """The controls that could refute the headline: joint vs per-feature model, fidelity
    gate, clustering, recovery baselines (any of them missing is left out)."""
    items = [
        (label, Markup(render_value(summary[k])))
        for k, label in _CONTROL_FIELDS
        if summary.get(k) is not None
    ]
    if not items:
        return ""
    return "<h2 id='controls'>Controls</h2>" + kv_table(items)


def recovery_section(summary: dict[str, Any]) -> str:
    rec = summary.get("planted_recovery")
    if not rec:
        return ""
    rows = []
    for r in rec:
        if r.get("true_weight"):
            verdict = "recovered" if r.get("sign_recovered") else "NOT recovered"
        else:
            verdict = (
                "significant (false positive)"
                if r.get("significant")
                else "not significant (correct)"
            )
        rows.append(
            [
                cell(r.get("concept")),
                cell(r.get("true_weight")),
                cell(r.get("best_feature")),
                cell(r.get("feature_label")),
                cell(r.get("correlation")),
                cell(r.get("label_effect")),
                cell(r.get("q")),
                cell(verdict),
                cell(r.get("joint_effect")),
                cell(r.get("joint_q")),
                cell(r.get("pca_correlation")),
                cell(r.get("ica_correlation")),
                cell(r.get("description_names_concept")),
            ]
        )
    head = [
        "planted concept",
        "true weight",
        "best feature",
        "its label",
        "correlation",
        "label effect",
        "q",
        "verdict",
        "joint effect",
        "joint q",
        "PCA corr",
        "ICA corr",
        "description names it",
    ]
    return (
        "<h2 id='recovery'>Planted-concept recovery (demo ground truth)</h2>"
        "<p class='mute'>The demo plants concepts with known effects on the label; each is "
        "matched to the feature whose activation correlates most with it.</p>"
        + table(head, rows, table_id="recovery-table")
    )


def dataset_page(
    summary: dict[str, Any],
    table_df: pl.DataFrame,
    pairs: pl.DataFrame,
    codes: np.ndarray,
    *,
    auc_svg: str | Path | None,
    effects_svg: str | Path | None,
    n_example_features: int = 200,
    n_examples: int = 3,
) -> str:
    """The whole page; ``codes`` are in the shown direction (SAE codes times orientation)."""
    name = summary.get("dataset", "")
    n_sig = summary.get("n_significant")
    joint = summary.get("headline") == "joint"
    model = " in the joint model" if joint else ""
    head = (
        f"<h1>What the feedback in <q>{esc(name)}</q> rewards</h1>"
        f"<p>{fmt(summary.get('n_features'))} SAE features, "
        f"<span class='sig'>{fmt(n_sig)} significant{model}</span> at BH-FDR q &lt; "
        f"{fmt((summary.get('settings') or {}).get('fdr_q'))}. "
        "<a href='#features'>features</a> · <a href='#auc'>AUC</a> · "
        "<a href='#effects'>effects</a></p>"
    )
    effects = (
        "<h2 id='effects'>Label effects</h2>"
        + inline_svg(effects_svg, "Length-controlled effects with 95% CIs; red: significant.")
        if effects_svg
        else ""
    )
    body = [
        head,
        data_section(summary),
        sae_section(summary),
        auc_section(summary, auc_svg),
        recovery_section(summary),
        controls_section(summary),
        effects,
        feature_section(
            table_df,
            pairs,
            codes,
            n_example_features=n_example_features,
            n_examples=n_examples,
            sig_column="joint_significant" if joint else "significant",
        ),
    ]
    return page(f"prefscope: {name}", body, nav="<a href='../index.html'>all results</a>")
