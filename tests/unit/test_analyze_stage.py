"""The analyze stage end to end on a small planted dataset."""

import json
import logging

import numpy as np
import polars as pl
import pytest

from prefscope.analyze import controlled_logit
from prefscope.analyze.stage import analyze
from prefscope.errors import InputError

PARAMS = {
    "controls": ["length_delta"],
    "lasso_top_k": [1, 3],
    "n_bootstrap": 200,
    "fdr_q": 0.05,
    "seed": 0,
}


def _write(tmp_path, n=800, m=6, d=8, seed=0, **columns):
    """Feature 0 drives the label (log-odds 2.5 per unit), length_delta adds its own effect."""
    rng = np.random.default_rng(seed)
    codes = (rng.normal(size=(n, m)) * (rng.random((n, m)) < 0.4)).astype(np.float32)
    length = rng.normal(size=n) * 40
    deltas = rng.normal(size=(n, d)).astype(np.float32)
    eta = 2.5 * codes[:, 0] + 0.01 * length
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    label = pl.Series("label", y, dtype=pl.Int8)
    label = label.scatter(np.arange(3, n, 10), None)  # ties: excluded from label stats
    pairs = pl.DataFrame(
        {
            "pair_id": np.arange(n, dtype=np.int64),
            "label": label,
            "length_delta": length,
            "split": np.where(np.arange(n) % 5 == 0, "val", "train"),
            **columns,
        }
    )
    pairs.write_parquet(tmp_path / "pairs.parquet")
    np.save(tmp_path / "codes.npy", codes)
    np.save(tmp_path / "deltas.npy", deltas)
    return pairs, codes


def _run(tmp_path, params=PARAMS):
    inputs = {k: tmp_path / f"{k}.{ext}" for k, ext in
              [("pairs", "parquet"), ("codes", "npy"), ("deltas", "npy")]}  # fmt: skip
    outputs = {
        "features": tmp_path / "analysis" / "features.parquet",
        "summary": tmp_path / "analysis" / "summary.json",
    }
    analyze(inputs, outputs, params, threads=1)
    return pl.read_parquet(outputs["features"]), json.loads(outputs["summary"].read_text())


def test_outputs_on_planted_data(tmp_path):
    pairs, codes = _write(tmp_path)
    features, summary = _run(tmp_path)
    labeled = pairs.get_column("label").is_not_null().to_numpy()
    n_lab = int(labeled.sum())
    assert n_lab == 720

    assert features.columns == [
        "feature", "coef", "se", "z", "p", "ci_low", "ci_high", "boot_ci_low", "boot_ci_high",
        "q", "significant", "status",
        "win_rate", "delta_win_rate", "win_p", "n_active", "prevalence", "n",
        "tested", "unexplained", "joint_coef", "joint_se", "joint_z", "joint_p",
        "joint_ci_low", "joint_ci_high", "joint_boot_ci_low", "joint_boot_ci_high", "joint_q",
        "joint_significant", "significance_differs",
    ]  # fmt: skip
    assert features.height == 6 and (features["n"] == n_lab).all()
    # Effects use all labeled rows, controlling for length.
    y = pairs.get_column("label").to_numpy()[labeled].astype(float)
    ref = controlled_logit(y, codes[labeled], pairs.get_column("length_delta").to_numpy()[labeled])
    np.testing.assert_allclose(features["coef"].to_numpy(), ref.coef, rtol=1e-12)
    assert features.filter(pl.col("significant"))["feature"].to_list() == [0]
    f0 = features.row(0, named=True)
    assert f0["coef"] > 0 and f0["ci_low"] > 0 and f0["win_rate"] > 0.6 and f0["win_p"] < 1e-6
    # Prevalence counts every row (ties too), n_active only labeled ones.
    np.testing.assert_allclose(features["prevalence"].to_numpy(), (codes != 0).mean(axis=0))
    assert features["n_active"].to_list() == (codes[labeled] != 0).sum(axis=0).tolist()

    assert summary["n_labeled"] == n_lab
    assert summary["n_labeled_train"] == 560 and summary["n_labeled_val"] == 160
    auc = summary["auc"]
    assert set(auc) == {"controls", "embedding", "sae_all", "sae_lasso_top1", "sae_lasso_top3"}
    for entry in auc.values():
        assert entry["ci_low"] <= entry["val_auc"] <= entry["ci_high"]
        assert entry["n_train"] == 560 and entry["n_val"] == 160
    assert auc["sae_all"]["val_auc"] > auc["controls"]["val_auc"] + 0.1
    assert auc["sae_all"]["gain_over_controls"]["ci_low"] > 0
    assert [auc[k]["n_features"] for k in auc] == [0, 8, 6, 1, 3]
    assert summary["lasso"]["1"]["features"] == [0]
    assert summary["lasso"]["3"]["features"][0] == 0 and summary["lasso"]["3"]["exact"]
    assert set(summary["lasso"]["1"]["control_coefs"]) == {"length_delta"}
    assert summary["settings"]["n_bootstrap"] == 200


def test_rerun_is_identical(tmp_path):
    _write(tmp_path)
    f1, s1 = _run(tmp_path)
    f2, s2 = _run(tmp_path)
    assert f1.equals(f2) and s1 == s2


def test_constant_control_is_dropped_with_a_warning(tmp_path, caplog):
    _write(tmp_path, const=np.ones(800))
    with caplog.at_level(logging.WARNING, logger="prefscope.analyze"):
        _, summary = _run(tmp_path, {**PARAMS, "controls": ["length_delta", "const"]})
    assert summary["controls"] == ["length_delta"]
    assert summary["dropped_controls"] == ["const"]
    assert "const" in caplog.text


def test_missing_control_value_names_the_column(tmp_path):
    _write(tmp_path, verbosity=[1.0] * 5 + [None] + [1.0] * 794)
    with pytest.raises(InputError, match="verbosity") as err:
        _run(tmp_path, {**PARAMS, "controls": ["verbosity"]})
    assert err.value.column == "verbosity" and err.value.row == 6
    assert not (tmp_path / "analysis").exists()  # nothing half-written


def test_missing_control_column(tmp_path):
    _write(tmp_path)
    with pytest.raises(InputError, match="not found") as err:
        _run(tmp_path, {**PARAMS, "controls": ["nope"]})
    assert err.value.column == "nope"


def test_codes_row_mismatch(tmp_path):
    _write(tmp_path)
    np.save(tmp_path / "codes.npy", np.zeros((5, 6), dtype=np.float32))
    with pytest.raises(InputError, match="SAE codes") as err:
        _run(tmp_path)
    assert err.value.file.endswith("codes.npy")


def test_fidelity_gate_joint_model_and_clusters(tmp_path):
    """Only features that passed fidelity are tested (BH, joint, Lasso); the rest are
    unexplained. Clusters come from the pairs' component column."""
    pairs, codes = _write(tmp_path, component=np.arange(800) // 4)
    kept = [True, True, False, True, False, True]
    pl.DataFrame({"feature": np.arange(6), "kept": kept}).write_parquet(
        tmp_path / "fidelity.parquet"
    )
    inputs = {k: tmp_path / f"{k}.{ext}" for k, ext in
              [("pairs", "parquet"), ("codes", "npy"), ("deltas", "npy"),
               ("fidelity", "parquet")]}  # fmt: skip
    outputs = {"features": tmp_path / "f.parquet", "summary": tmp_path / "s.json"}
    analyze(inputs, outputs, PARAMS, threads=1)
    features = pl.read_parquet(outputs["features"]).sort("feature")
    summary = json.loads(outputs["summary"].read_text())
    assert features["tested"].to_list() == kept
    assert summary["unexplained_features"] == [2, 4] and summary["n_tested"] == 4
    untested = features.filter(~pl.col("tested"))
    assert untested["q"].null_count() == 2 and untested["joint_coef"].null_count() == 2
    assert untested["coef"].null_count() == 0  # effects still computed, never significant
    assert not untested["significant"].any()
    # BH over the 4 tested features only
    from prefscope.analyze import bh_fdr

    tested = features.filter(pl.col("tested"))
    np.testing.assert_allclose(tested["q"].to_numpy(), bh_fdr(tested["p"].to_numpy()))
    assert features.filter(pl.col("joint_significant"))["feature"].to_list() == [0]
    assert summary["joint"]["status"] == "ok" and summary["joint"]["n_features"] == 4
    assert summary["joint"]["clustered"] and summary["n_clusters"] == 200
    assert summary["joint"]["n_bootstrap"] == 200  # default refits, whole components
    assert (tested["joint_boot_ci_low"] < tested["joint_coef"]).all()
    assert (tested["joint_coef"] < tested["joint_boot_ci_high"]).all()
    assert (features["boot_ci_low"] < features["coef"]).all()  # per-feature, same resamples
    assert (features["coef"] < features["boot_ci_high"]).all()
    for k in ("3",):
        assert set(summary["lasso"][k]["features"]) <= {0, 1, 3, 5}
    # cluster-robust: the per-feature SE equals the clustered controlled logit's
    lab = pairs.get_column("label").is_not_null().to_numpy()
    ref = controlled_logit(
        pairs["label"].to_numpy()[lab].astype(float),
        codes[lab],
        pairs["length_delta"].to_numpy()[lab],
        groups=pairs["component"].to_numpy()[lab],
    )
    np.testing.assert_allclose(features["se"].to_numpy(), ref.se, rtol=1e-12)


def test_tested_features_all_ignores_fidelity(tmp_path):
    _write(tmp_path)
    pl.DataFrame({"feature": np.arange(6), "kept": [False] * 6}).write_parquet(
        tmp_path / "fidelity.parquet"
    )
    inputs = {k: tmp_path / f"{k}.{ext}" for k, ext in
              [("pairs", "parquet"), ("codes", "npy"), ("deltas", "npy"),
               ("fidelity", "parquet")]}  # fmt: skip
    outputs = {"features": tmp_path / "f.parquet", "summary": tmp_path / "s.json"}
    analyze(inputs, outputs, {**PARAMS, "tested_features": "all"}, threads=1)
    features = pl.read_parquet(outputs["features"])
    assert features["tested"].all() and features["q"].null_count() == 0
    analyze(inputs, outputs, PARAMS, threads=1)  # all failed fidelity: nothing tested
    summary = json.loads(outputs["summary"].read_text())
    assert summary["n_tested"] == 0 and summary["n_significant"] == 0
    assert summary["joint"]["status"] == "no tested features" and summary["lasso"] == {}
