"""Planted-concept recovery, orientation, the Markdown summary and the HTML pages, on hand-made
inputs."""

from __future__ import annotations

import numpy as np
import polars as pl

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


def _shown_table() -> pl.DataFrame:
    return pl.DataFrame({
        "feature": [0, 1], "coef": [0.5, -0.8], "z": [2.0, -4.0], "p": [0.04, 1e-5],
        "ci_low": [0.1, -1.0], "ci_high": [0.9, -0.6], "q": [0.04, 1e-4],
        "significant": [True, True], "win_rate": [0.6, 0.3], "delta_win_rate": [0.1, -0.2],
        "prevalence": [0.2, 0.3], "fidelity_r": [0.7, 0.8],
        "label": ["<i>x</i>", "fewer: sorry / apologies"],
        "description": ['uses the words "<script>x</script>"',
                        'uses fewer of the words "sorry", "apologies"'],
        "candidates": [['uses the words "<script>x</script>"'],
                       ['uses fewer of the words "sorry"', 'uses the words "great"']],
    })


def test_orientation_flips_negated_features_and_every_signed_number():
    from prefscope.report.orient import negate, orient_table

    out = orient_table(_shown_table()).sort("feature")
    assert out["orientation"].to_list() == [1, -1]
    row = out.row(1, named=True)
    assert row["description"] == 'uses the words "sorry", "apologies"'
    assert row["label"] == "sorry / apologies"
    assert row["candidates"] == ['uses the words "sorry"', 'uses fewer of the words "great"']
    assert (row["coef"], row["z"], row["ci_low"], row["ci_high"]) == (0.8, 4.0, 0.6, 1.0)
    assert np.isclose(row["win_rate"], 0.7) and row["delta_win_rate"] == 0.2
    assert (row["p"], row["q"], row["fidelity_r"], row["prevalence"]) == (1e-5, 1e-4, 0.8, 0.3)
    assert out.row(0, named=True)["coef"] == 0.5  # a positive description is left alone
    assert negate(negate('uses fewer of the terms "**"')) == 'uses fewer of the terms "**"'
    assert negate("Response apologises") == "Response apologises"  # free text: never rewritten


def test_dataset_page_escapes_dataset_text():
    from prefscope.report.dataset_page import dataset_page
    from prefscope.report.orient import orient_table

    pairs = pl.DataFrame({"prompt": ["<b>p</b>", "q"],
                          "response_A": ["<script>x</script>", "a"],
                          "response_B": ["fine & dandy <img src=x onerror=alert(1)>", "b"],
                          "label": [1, 0]})
    summary = {"dataset": "<ds>", "data": {"n_rows": 2}, "auc": {}, "n_features": 2,
               "n_significant": 2, "settings": {"fdr_q": 0.05}}
    html = dataset_page(summary, orient_table(_shown_table()), pairs,
                        np.array([[1.0, 0.0], [0.0, -2.0]]), auc_svg=None, effects_svg=None)
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&amp; dandy" in html
    assert "<i>x</i>" not in html and "&lt;ds&gt;" in html
    assert "fewer" not in html.split("<table class='data' id='feature-table'>")[1].split(
        "Candidate")[0]
    assert "http" not in html.replace("http-equiv", "")  # nothing to fetch


def test_index_page_shows_headlines_and_extra_fields_without_breaking():
    from prefscope.report.index_page import index_page

    ds = {"data": {"n_rows": 10}, "n_features": 4, "n_significant": 1,
          "auc": {"sae_all": {"val_auc": 0.71, "ci_low": 0.6, "ci_high": 0.8},
                  "reward_model": {"val_auc": 0.75, "ci_low": 0.7, "ci_high": 0.8}},
          "top_features": [{"label": "<b>", "coef": 0.5}], "new_field": {"x": 1}}
    run = {"task": "vader", "rlhf": {"algorithm": "grpo", "evaluation": {
        "before": {"mean_reward": 0.1}, "after": {"mean_reward": 0.4}}},
        "kendall": {"tau": 0.55, "p": 1e-4}, "baseline_kendall": {"tau": 0.05},
        "within_sign_kendall": {"positive": {"tau": 0.31, "p": 0.01, "n_words": 20},
                                "negative": {"tau": 0.12, "p": 0.4, "n_words": 17}},
        "sign_only_baseline_kendall": {"tau": 0.72},
        "base_model": {"kendall": {"difference": 0.04, "ci95": [-0.1, 0.2]},
                       "statement": "Pooled tau was already in the base model"},
        "controls": {"base_model_tau": 0.2}}
    html = index_page({"a": ds}, {"r": run}, compare={"n_datasets": 2, "flips": [1, 2]})
    assert "href='a/report.html'" in html and "href='lfp/r/report.html'" in html
    assert "0.71" in html and "0.55 (0.72)" in html and "base_model_tau" in html
    assert "0.31 / 0.12" in html and "0.04 [-0.1, 0.2]" in html and "already in the base" in html
    assert "0.1 → <span class='big'>0.4</span>" in html
    assert "Across datasets" in html and "n_datasets" in html and "&lt;b&gt;" in html


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
