"""Report controls on hand-made inputs: joint effects in recovery, PCA/ICA baselines,
description hit rate, false positives, orientation of joint columns, the Markdown."""

from __future__ import annotations

import numpy as np
import polars as pl

from prefscope.data.demo import concept_phrases
from prefscope.report.markdown import summary_markdown
from prefscope.report.orient import orient_table
from prefscope.report.recovery import (
    concept_keywords,
    false_positives,
    names_concept,
    planted_recovery,
    recovery_baselines,
)


def test_keywords_are_distinctive_and_descriptions_are_matched():
    kw = concept_keywords(concept_phrases())
    assert {"sorry", "apologies"} <= kw["apology"] and "**" in kw["bold"]
    assert "?" in kw["question"] and "http" in kw["citation"]
    assert not kw["apology"] & kw["question"]
    assert names_concept('uses the words "sorry", "my apologies"', kw["apology"])
    assert names_concept('uses the terms "**" (markdown bold)', kw["bold"])
    assert not names_concept('uses the words "sorry"', kw["refusal"])
    assert names_concept("Apologizes: I'm sorry for that", kw["apology"])  # free text
    assert not names_concept(None, kw["apology"])


def test_baselines_joint_effects_and_false_positives():
    rng = np.random.default_rng(0)
    n = 400
    a = rng.integers(-1, 2, size=n).astype(float)
    b = rng.integers(-1, 2, size=n).astype(float)
    mix = rng.normal(size=(2, 6))
    deltas = np.column_stack([a, b]) @ mix + 0.01 * rng.normal(size=(n, 6))
    codes = np.column_stack([-a, b, rng.normal(size=n)])  # feature 0 = -a
    concepts = pl.DataFrame({"apology_delta": a, "question_delta": b})
    truth = {
        "concepts": ["apology", "question"],
        "weights": {"apology": 1.0, "question": 0.0},
        "phrases": {"apology": ["I'm sorry."], "question": ["Does that help?"]},
    }
    features = pl.DataFrame({
        "feature": [0, 1, 2], "coef": [-0.8, -0.3, 0.0], "q": [1e-6, 1e-3, 0.9],
        "joint_coef": [-0.9, -0.05, 0.0], "joint_q": [1e-8, 0.4, 0.9], "tested": [True] * 3,
        "label": ["f0", "f1", "f2"],
        "description": ['uses fewer of the words "sorry"', 'uses the terms "?"', "x"],
    })  # fmt: skip
    recs = planted_recovery(codes, concepts, truth, features, fdr_q=0.05)
    assert recs[0]["joint_effect"] == 0.9 and recs[0]["joint_sign_recovered"]
    assert recs[1]["significant"] and not recs[1]["joint_significant"]
    base = recovery_baselines(recs, codes, deltas, concepts, truth, features)
    assert base["n_recovered"]["sae"] == 2
    assert recs[0]["pca_correlation"] > 0.5 and recs[0]["ica_correlation"] > 0.9
    assert base["description_hit_rate"] == 1.0 and base["n_descriptions_checked"] == 2
    fp = false_positives(recs)
    assert fp == {"per_feature": ["question"], "joint": [], "missed_per_feature": [],
                  "missed_joint": []}  # fmt: skip


def test_orientation_mirrors_joint_interval():
    t = pl.DataFrame({
        "feature": [0], "coef": [0.5], "ci_low": [0.1], "ci_high": [0.9], "boot_ci_low": [0.2],
        "boot_ci_high": [0.7], "joint_coef": [0.4],
        "joint_z": [2.0], "joint_ci_low": [0.2], "joint_ci_high": [0.6],
        "description": ['uses fewer of the words "sorry"'], "label": ["x"],
    })  # fmt: skip
    row = orient_table(t).row(0, named=True)
    assert row["joint_coef"] == -0.4 and row["joint_z"] == -2.0
    assert (row["joint_ci_low"], row["joint_ci_high"]) == (-0.6, -0.2)
    assert (row["boot_ci_low"], row["boot_ci_high"]) == (-0.7, -0.2)


def test_markdown_shows_both_models_baselines_and_false_positives():
    summary = {
        "dataset": "d",
        "data": {"n_rows": 4, "n_label_A": 2, "n_label_B": 1, "n_label_other": 1,
                 "n_train": 4, "n_val": 0, "n_duplicate_rows": 0},
        "sae": {"config": {"architecture": "topk", "n_latents": 8, "k": 2}, "val": None},
        "auc": {},
        "settings": {"fdr_q": 0.05},
        "headline": "joint", "n_significant_joint": 1, "n_significant_per_feature": 2,
        "joint": {"status": "ok", "n_features": 3}, "n_tested": 3,
        "unexplained_features": [{"feature": 7}], "uncertainty": "cluster-robust SEs",
        "n_clusters": 40,
        "significance_differs": [{"feature": 1, "per_feature_q": 0.001, "joint_q": 0.4,
                                  "significant_per_feature": True, "significant_joint": False}],
        "top_features": [{"feature": 0, "label": "f0", "coef": 0.8, "ci_low": 0.5,
                          "ci_high": 1.1, "boot_ci_low": 0.45, "boot_ci_high": 1.15,
                          "q": 1e-6, "joint_coef": 0.9, "joint_ci_low": 0.6,
                          "joint_ci_high": 1.2, "joint_q": 1e-8, "delta_win_rate": 0.2,
                          "fidelity_r": 0.7, "kept": True}],
        "planted_recovery": [{"concept": "question", "true_weight": 0.0, "best_feature": 1,
                              "correlation": 0.9, "label_effect": -0.3, "q": 1e-3,
                              "significant": True, "joint_effect": -0.05, "joint_q": 0.4,
                              "joint_significant": False, "pca_correlation": 0.4,
                              "ica_correlation": 0.7, "description_names_concept": True}],
        "planted_false_positives": {"per_feature": ["question"], "joint": []},
        "recovery_baselines": {"recovered_corr": 0.5, "n_concepts": 1,
                               "n_recovered": {"sae": 1, "pca": 0, "ica": 1},
                               "description_hit_rate": 1.0, "n_descriptions_checked": 1},
    }  # fmt: skip
    md = summary_markdown(summary)
    assert "**joint model** (1 joint, 2 per-feature)" in md
    assert "7 unexplained" not in md and "1 unexplained features" in md and ": 7." in md
    assert "Significance differs" in md and "| 1 | 0.001 | 0.4 | True | False |" in md
    assert "SAE 1, PCA 0, ICA 1 of 1; description hit rate 1" in md
    assert "| 0 | f0 | 0.8 | [0.5, 1.1] | [0.45, 1.15] | 1e-06 |" in md  # Wald, bootstrap
    assert "per-feature model question; joint model none" in md
    assert (
        "| question | 0 | 1 | 0.9 | -0.3 | 0.001 | significant! | -0.05 | 0.4 | "
        "not significant (correct) |" in md
    )
