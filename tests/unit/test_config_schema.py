"""The default config and every example validate against the schema, which fills defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = str(ROOT / "workflow/schemas/config.schema.yaml")
CONFIGS = [ROOT / "config/config.yaml", *sorted((ROOT / "config/examples").glob("*.yaml"))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_validates_and_gets_defaults(path):
    config = yaml.safe_load(path.read_text())
    validate(config, SCHEMA)
    assert config["sae"]["k"] >= 1 and config["analyze"]["fdr_q"] == pytest.approx(0.05)
    assert config["lfp"]["n_layers_keep"] >= 1
    assert config["lfp"]["triples"]["min_grade"] == 4


def test_unknown_key_is_rejected():
    with pytest.raises(Exception, match="sae"):
        validate({"sae": {"kk": 3}}, SCHEMA)


def test_run_names_must_be_wildcard_safe():
    with pytest.raises(Exception, match="does not match"):
        validate({"lfp": {"runs": {"my/run": {"task": "vader", "algorithm": "grpo"}}}}, SCHEMA)


def test_dataset_names_of_result_folders_are_reserved():
    for name in ("compare", "lfp"):
        with pytest.raises(Exception, match="should not be valid"):
            validate({"datasets": {name: {"source": "demo"}}}, SCHEMA)


def test_reward_model_is_off_by_default_and_checked_when_set():
    config = {}
    validate(config, SCHEMA)
    assert config["analyze"]["reward_model"] is None
    assert config["compare"] == {
        "datasets": None, "balance": "subsample", "sae": {}, "heatmap_features": 40, "seed": 0,
    }  # fmt: skip
    validate({"analyze": {"reward_model": {"model": "tiny-neox", "device": "cpu"}}}, SCHEMA)
    with pytest.raises(Exception, match="epochs"):
        validate({"analyze": {"reward_model": {"model": "m", "epochs": 1}}}, SCHEMA)
    with pytest.raises(Exception, match="model"):
        validate({"analyze": {"reward_model": {"device": "cpu"}}}, SCHEMA)


def test_demo_weights_name_known_concepts():
    config = {"datasets": {"d": {"source": "demo", "demo": {"truth": {"weights": {"bold": -0.8}}}}}}
    validate(config, SCHEMA)
    assert config["datasets"]["d"]["demo"]["truth"]["weights"] == {"bold": -0.8}
    with pytest.raises(Exception, match="humour"):
        validate(
            {"datasets": {"d": {"source": "demo", "demo": {"truth": {"weights": {"humour": 1}}}}}},
            SCHEMA,
        )
