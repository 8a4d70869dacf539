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


def _cell(x: object) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    if isinstance(x, float):
        return f"{x:.3g}"
    if isinstance(x, _Escaped):
        return x
    # text made here (numbers, intervals): no HTML, and one cell on one line
    return html.escape(str(x), quote=False).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _sae_quality(sae: dict) -> str:
    """Validation metrics, or why there are none (a dataset with no validation pairs)."""
    val = sae.get("val")
    if not val:
        return "no validation pairs, so no held-out FVU"
    return f"val FVU {val['fvu']:.3f}, L0 {val['l0']:.2f}, dead {100 * val['dead_fraction']:.1f}%"


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
        "## How well do the features predict the label? (held-out ROC-AUC)",
        "",
        _table(
            ["predictors", "val AUC", "95% CI", "train AUC"],
            [[k, v["val_auc"], f"[{_cell(v['ci_low'])}, {_cell(v['ci_high'])}]", v["train_auc"]]
             for k, v in summary["auc"].items()],
        ),
        "",
        "## Features that predict preference (BH-FDR q < "
        f"{summary['settings']['fdr_q']}, length-controlled)",
        "",
        _table(
            ["feature", "label", "coef", "95% CI", "q", "Δ win rate", "fidelity r", "kept"],
            [[f["feature"], escape_text(f["label"]) if f["label"] else None, f["coef"],
              f"[{_cell(f['ci_low'])}, {_cell(f['ci_high'])}]", f["q"], f["delta_win_rate"],
              f["fidelity_r"], f["kept"]] for f in summary["top_features"]],
        ),
    ]
    if "planted_recovery" in summary:
        out += [
            "",
            "## Planted concepts (demo ground truth)",
            "",
            _table(
                ["concept", "true weight", "best feature", "corr", "label effect", "q",
                 "recovered"],
                [[r["concept"], r["true_weight"], r["best_feature"], r["correlation"],
                  r["label_effect"], r["q"],
                  r.get("sign_recovered", "n/a (zero weight)") if r["true_weight"] else
                  ("significant!" if r["significant"] else "not significant (correct)")]
                 for r in summary["planted_recovery"]],
            ),
        ]
    return "\n".join(out) + "\n"
