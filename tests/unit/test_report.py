"""Planted-concept recovery, the Markdown/HTML summaries, on hand-made inputs."""

from __future__ import annotations

import numpy as np
import polars as pl

from prefscope.report.html import feature_page
from prefscope.report.recovery import planted_recovery


def _features(coefs, qs):
    return pl.DataFrame({"feature": list(range(len(coefs))), "coef": coefs, "q": qs,
                         "label": [f"f{i}" for i in range(len(coefs))]})


def test_recovery_matches_concept_to_feature_and_signs_effect():
    delta = np.array([1, -1, 0, 1, 0, -1, 1, 0], dtype=float)
    noise = np.array([0, 1, 0, 0, 1, 0, 0, 1], dtype=float)
    codes = np.stack([noise, -2.0 * delta, noise * 0.5], axis=1)  # feature 1 = -concept
    concepts = pl.DataFrame({"good_delta": delta, "null_delta": noise})
    truth = {"concepts": ["good", "null"], "weights": {"good": 1.0, "null": 0.0}}
    # feature 1 has a negative coefficient; since it is anti-aligned the concept effect is +
    out = planted_recovery(codes, concepts, truth, _features([0.1, -0.8, 0.05], [0.9, 1e-6, 0.5]),
                           fdr_q=0.05)
    good, null = out
    assert good["best_feature"] == 1 and np.isclose(good["correlation"], -1.0)
    assert np.isclose(good["label_effect"], 0.8) and good["sign_recovered"]
    assert null["true_weight"] == 0 and not null["significant"] and "sign_recovered" not in null


def test_feature_page_escapes_dataset_text():
    pairs = pl.DataFrame({"prompt": ["<b>p</b>"], "response_A": ["<script>x</script>"],
                          "response_B": ["fine & dandy"], "label": [1]})
    table = pl.DataFrame({"feature": [0], "label": ["<i>x</i>"], "description": ["d"],
                          "coef": [0.5], "ci_low": [0.1], "ci_high": [0.9], "q": [0.01],
                          "delta_win_rate": [0.2], "fidelity_r": [0.7], "kept": [True]})
    html = feature_page("<ds>", table, pairs, np.array([[1.0]]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&amp; dandy" in html and "<i>x</i>" not in html and "&lt;ds&gt;" in html


def test_markdown_without_validation_pairs_says_so():
    from prefscope.report.markdown import summary_markdown

    summary = {
        "dataset": "tiny",
        "data": {"n_rows": 4, "n_label_A": 2, "n_label_B": 1, "n_label_other": 1,
                 "n_train": 4, "n_val": 0, "n_duplicate_rows": 0},
        "sae": {"config": {"architecture": "topk", "n_latents": 8, "k": 2}, "val": None},
        "auc": {"controls": {"val_auc": None, "ci_low": None, "ci_high": None,
                             "train_auc": 0.5}},
        "settings": {"fdr_q": 0.05},
        "top_features": [],
    }
    md = summary_markdown(summary)
    assert "SAE: topk, 8 latents, k=2; no validation pairs, so no held-out FVU." in md
    assert "| controls |" in md
