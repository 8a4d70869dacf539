"""The report never crashes on a missing AUC and shows LLM-written text literally (issue 13)."""

from __future__ import annotations

from prefscope.report.markdown import escape_text, summary_markdown
from prefscope.report.plots import auc_plot


def _summary(label: str, auc: dict) -> dict:
    return {
        "dataset": "ds",
        "data": {
            "n_rows": 40,
            "n_label_A": 20,
            "n_label_B": 20,
            "n_label_other": 0,
            "n_train": 32,
            "n_val": 8,
            "n_duplicate_rows": 0,
            "n_identical_rows": 3,
        },
        "sae": {"config": {"architecture": "topk", "n_latents": 8, "k": 2}, "val": None},
        "auc": auc,
        "settings": {"fdr_q": 0.05},
        "top_features": [
            {
                "feature": 3,
                "label": label,
                "coef": 0.5,
                "ci_low": 0.1,
                "ci_high": 0.9,
                "q": 0.01,
                "delta_win_rate": 0.2,
                "fidelity_r": 0.7,
                "kept": True,
            }
        ],
    }


def test_auc_plot_draws_missing_aucs_as_na(tmp_path):
    auc = {
        "length only": {"val_auc": None, "ci_low": None, "ci_high": None, "train_auc": None},
        "all features": {"val_auc": 0.71, "ci_low": 0.6, "ci_high": 0.8, "train_auc": 0.8},
        "top-3": {"val_auc": 0.66, "ci_low": None, "ci_high": None, "train_auc": 0.7},
    }
    auc_plot(auc, tmp_path / "auc.svg")
    svg = (tmp_path / "auc.svg").read_text()
    assert svg.count("n/a (no held-out AUC)") == 1 or "no held-out AUC" in svg
    auc_plot({"x": {"val_auc": None, "ci_low": None, "ci_high": None}}, tmp_path / "none.svg")
    assert (tmp_path / "none.svg").stat().st_size > 0


def test_llm_label_is_escaped_in_summary_markdown():
    label = "<script>alert(1)</script> **loud** [link](http://x) | pipe\nnext"
    md = summary_markdown(_summary(label, {}))
    row = next(line for line in md.splitlines() if line.startswith("| 3 |"))
    assert "<script>" not in md and "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in row
    assert "\\*\\*loud\\*\\*" in row and "\\[link\\]\\(http://x\\)" in row
    assert "\\| pipe next" in row  # one table cell, one line
    assert row.count(" | ") == 12  # 13 columns: no cell was split by the label
    assert "3 with identical responses (excluded)" in md


def test_escape_text_keeps_plain_words():
    assert escape_text("uses bulleted lists") == "uses bulleted lists"
    assert escape_text("a & b") == "a &amp; b"
