"""The readable Markdown summary of one dataset."""

from __future__ import annotations

import html
import re

# Markdown punctuation that could start emphasis, links, code, headings or tables.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|~])")


class _Escaped(str):
    """Text already escaped by :func:`escape_text` (tables do not escape it twice)."""


def escape_text(text: str) -> str:
    """Text (LLM-written feature labels, dataset strings) shown literally in Markdown and HTML.

    HTML is entity-escaped (a label cannot inject a tag or a script into a rendered page),
    Markdown punctuation is backslash-escaped, and line breaks become spaces so a cell stays
    one table cell.
    """
    flat = " ".join(str(text).split())
    return _Escaped(_MARKDOWN.sub(r"\\\1", html.escape(flat, quote=False)))


def md_cell(x: object) -> str:
    """One Markdown table cell: numbers to 3 significant digits, missing as a dash."""
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    if isinstance(x, float):
        return f"{x:.3g}"
    if isinstance(x, _Escaped):
        return x
    # text made here (numbers, intervals): no HTML, and one cell on one line
    return html.escape(str(x), quote=False).replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table (cells through :func:`md_cell`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _sae_quality(sae: dict) -> str:
    """Validation metrics, or why there are none (a dataset with no validation pairs)."""
    val = sae.get("val")
    if not val:
        return "no validation pairs, so no held-out FVU"
    return f"val FVU {val['fvu']:.3f}, L0 {val['l0']:.2f}, dead {100 * val['dead_fraction']:.1f}%"


def _reward_model_share(share: dict | None) -> list[str]:
    """One line: each predictor's AUC gain over chance as a share of the reward model's."""
    if not share:
        return []
    parts = ", ".join(f"{name} {100 * v:.0f}%" for name, v in share.items() if v == v)
    return ["", f"Share of the reward model's AUC gain over chance reached: {parts}."]


def summary_markdown(summary: dict) -> str:
    data, sae = summary["data"], summary["sae"]
    out = [
        f"# prefscope: {escape_text(summary['dataset'])}",
        "",
        f"{data['n_rows']} pairs ({data['n_label_A']} prefer A, {data['n_label_B']} prefer B, "
        f"{data['n_label_other']} ties/other); train {data['n_train']}, val {data['n_val']}; "
        f"{data['n_duplicate_rows']} repeated pairs; "
        f"{data.get('n_identical_rows', 0)} with identical responses (excluded).",
        "",
        f"SAE: {sae['config']['architecture']}, {sae['config']['n_latents']} latents, "
        f"k={sae['config']['k']}; {_sae_quality(sae)}.",
        "",
        *_auc_lines(summary),
        *_feature_lines(summary),
    ]
    if "recovery_baselines" in summary:
        out += _recovery(summary)
    if "planted_recovery" in summary:
        out += _planted_lines(summary)
    return "\n".join(out) + "\n"


def _auc_lines(summary: dict) -> list:
    """The held-out AUC table, and the reward model's share of the gain over chance."""
    return [
        "## How well do the features predict the label? (held-out ROC-AUC)",
        "",
        md_table(
            ["predictors", "val AUC", "95% CI", "train AUC"],
            [
                [
                    k,
                    v["val_auc"],
                    f"[{md_cell(v['ci_low'])}, {md_cell(v['ci_high'])}]",
                    v["train_auc"],
                ]
                for k, v in summary["auc"].items()
            ],
        ),
        *_reward_model_share(summary.get("reward_model_share")),
        "",
    ]


def _feature_lines(summary: dict) -> list:
    """The significant features with per-feature and joint effects, and where they differ."""
    return [
        "## Features that predict preference (BH-FDR q < "
        f"{summary['settings']['fdr_q']}, length-controlled)",
        "",
        *_headline_note(summary),
        md_table(
            [
                "feature",
                "label",
                "coef",
                "95% CI",
                "bootstrap CI",
                "q",
                "joint coef",
                "joint 95% CI",
                "joint bootstrap CI",
                "joint q",
                "Δ win rate",
                "fidelity r",
                "kept",
            ],
            [
                [
                    f["feature"],
                    escape_text(f["label"]) if f["label"] else None,
                    f["coef"],
                    _interval(f, "ci"),
                    _interval(f, "boot_ci"),
                    f["q"],
                    f.get("joint_coef"),
                    _interval(f, "joint_ci"),
                    _interval(f, "joint_boot_ci"),
                    f.get("joint_q"),
                    f["delta_win_rate"],
                    f["fidelity_r"],
                    f["kept"],
                ]
                for f in summary["top_features"]
            ],
        ),
        *_differs(summary),
    ]


def _planted_lines(summary: dict) -> list:
    """Demo only: each planted concept against its best feature, and the false positives."""
    out = [
        "",
        "## Planted concepts (demo ground truth)",
        "",
        md_table(
            [
                "concept",
                "true weight",
                "best feature",
                "corr",
                "label effect",
                "q",
                "recovered",
                "joint effect",
                "joint q",
                "recovered (joint)",
            ],
            [
                [
                    r["concept"],
                    r["true_weight"],
                    r["best_feature"],
                    r["correlation"],
                    r["label_effect"],
                    r["q"],
                    _verdict(r, ""),
                    r.get("joint_effect"),
                    r.get("joint_q"),
                    _verdict(r, "joint_"),
                ]
                for r in summary["planted_recovery"]
            ],
        ),
    ]
    fp = summary.get("planted_false_positives")
    if fp:
        out += [
            "",
            "False positives (zero-weight concepts called significant): per-feature model "
            f"{', '.join(fp['per_feature']) or 'none'}; joint model "
            f"{', '.join(fp['joint']) or 'none'}."
            + (
                " Weighted concepts missed: per-feature model "
                f"{', '.join(fp['missed_per_feature']) or 'none'}; joint model "
                f"{', '.join(fp['missed_joint']) or 'none'}."
                if "missed_joint" in fp
                else ""
            ),
        ]
    return out


def _verdict(r: dict, prefix: str) -> object:
    if r["true_weight"]:
        return r.get(f"{prefix}sign_recovered", "–")
    sig = r.get("joint_significant" if prefix else "significant")
    return "significant!" if sig else "not significant (correct)"


def _headline_note(summary: dict) -> list[str]:
    """Which model decides "significant" here, and what the intervals account for."""
    joint = summary.get("joint") or {}
    if not joint:
        return []
    model = "joint model" if summary.get("headline") == "joint" else "per-feature model"
    lines = [
        f"Listed: significant in the **{model}** ({summary.get('n_significant_joint')} joint, "
        f"{summary.get('n_significant_per_feature')} per-feature). The per-feature (WIMHF) "
        "model fits each feature alone with the controls; the joint model fits all "
        f"{joint.get('n_features')} tested features together (status {joint.get('status')}).",
    ]
    if summary.get("uncertainty"):
        lines.append(
            f"Uncertainty: {summary['uncertainty']} ({summary.get('n_clusters')} clusters)."
        )
    unexplained = summary.get("unexplained_features")
    if unexplained is not None:
        lines.append(
            f"Tested: {summary.get('n_tested')} features whose descriptions passed fidelity; "
            f"{len(unexplained)} unexplained features (failed fidelity) are not tested: "
            + (", ".join(str(u["feature"]) for u in unexplained) or "none")
            + "."
        )
    return [" ".join(lines), ""]


def _differs(summary: dict) -> list[str]:
    rows = summary.get("significance_differs") or []
    if not rows:
        return []
    return [
        "",
        "### Significance differs between the per-feature and the joint model",
        "",
        md_table(
            [
                "feature",
                "per-feature q",
                "joint q",
                "significant per feature",
                "significant jointly",
            ],
            [
                [
                    r["feature"],
                    r["per_feature_q"],
                    r["joint_q"],
                    r["significant_per_feature"],
                    r["significant_joint"],
                ]
                for r in rows
            ],
        ),
    ]


def _recovery(summary: dict) -> list[str]:
    b = summary["recovery_baselines"]
    recs = summary.get("planted_recovery") or []
    return [
        "",
        "## Recovery baselines: SAE vs PCA vs ICA (best |correlation| per planted concept)",
        "",
        md_table(
            ["concept", "SAE", "PCA", "ICA", "description names it"],
            [
                [
                    r["concept"],
                    abs(r["correlation"]),
                    r.get("pca_correlation"),
                    r.get("ica_correlation"),
                    r.get("description_names_concept", "–"),
                ]
                for r in recs
            ],
        ),
        "",
        f"Recovered (|corr| >= {b['recovered_corr']}): SAE {b['n_recovered']['sae']}, "
        f"PCA {b['n_recovered']['pca']}, ICA {b['n_recovered']['ica']} of {b['n_concepts']}; "
        f"description hit rate {md_cell(b['description_hit_rate'])} "
        f"({b['n_descriptions_checked']} recovered concepts checked).",
    ]


def _interval(feature: dict, name: str) -> str:
    """``[low, high]`` of the feature's ``<name>_low`` / ``<name>_high`` as table cells."""
    return f"[{md_cell(feature.get(name + '_low'))}, {md_cell(feature.get(name + '_high'))}]"
