"""End to end: the default demo recovers the concepts it planted in the preference data."""

from __future__ import annotations

import json

import polars as pl
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def summary(demo_run):
    return json.loads((demo_run / "results/demo/summary.json").read_text())


def test_summary_has_counts_splits_sae_metrics_and_auc_cis(summary):
    data = summary["data"]
    assert data["n_rows"] == 3200
    assert data["n_train"] + data["n_val"] == 3200 and data["n_val"] > 300
    assert data["n_label_other"] > 0 and data["n_duplicate_rows"] > 0
    assert 0 < summary["sae"]["val"]["fvu"] < 1
    assert summary["sae"]["val"]["dead_fraction"] < 0.5
    for row in summary["auc"].values():
        assert row["ci_low"] <= row["val_auc"] <= row["ci_high"]


def test_every_weighted_concept_is_found_with_the_planted_sign(summary):
    weighted = [r for r in summary["planted_recovery"] if r["true_weight"] != 0]
    assert len(weighted) >= 3
    for r in weighted:
        assert abs(r["correlation"]) >= 0.6, r
        assert r["q"] is not None and r["q"] < 0.05, r
        assert (r["label_effect"] > 0) == (r["true_weight"] > 0), r
        assert r["sign_recovered"], r


def test_no_zero_weight_concept_is_significant(summary):
    zero = [r for r in summary["planted_recovery"] if r["true_weight"] == 0]
    assert len(zero) >= 2
    for r in zero:
        assert not r["significant"], r


def test_sae_auc_ci_lies_above_length_only(summary):
    auc = summary["auc"]
    assert auc["sae_all"]["ci_low"] > auc["controls"]["val_auc"]


def test_feature_table_and_markdown(demo_run, summary):
    table = pl.read_parquet(demo_run / "results/demo/features.parquet")
    assert table.height == summary["n_features"] == 32
    for column in (
        "description",
        "label",
        "coef",
        "p",
        "ci_low",
        "ci_high",
        "q",
        "delta_win_rate",
        "fidelity_r",
        "kept",
    ):
        assert column in table.columns
    tsv = (demo_run / "results/demo/features.tsv").read_text().splitlines()
    assert len(tsv) == 33
    md = (demo_run / "results/demo/summary.md").read_text()
    assert "Planted concepts" in md and "ROC-AUC" in md


def test_every_rule_logged(demo_run):
    logs = {p.name for p in (demo_run / "logs/demo").glob("*.log")}
    assert {
        "demo_pairs.log",
        "ingest.log",
        "embed.log",
        "train_sae.log",
        "explain.log",
        "fidelity.log",
        "analyze.log",
        "report.log",
    } <= logs
