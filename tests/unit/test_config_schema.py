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


def test_both_branches_share_one_sae_definition():
    ref = {"$ref": "#/$defs/sae_architecture"}
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    assert ref.items() <= schema["properties"]["sae"].items()
    assert ref.items() <= schema["properties"]["lfp"]["properties"]["sae"].items()
    config = {}
    validate(config, SCHEMA)
    w, lfp = config["sae"], config["lfp"]["sae"]
    assert (w["architecture"], w["signed"], w["tied"], w["matryoshka"]) == (
        "batchtopk", True, False, None,
    )  # fmt: skip
    assert (lfp["architecture"], lfp["signed"], lfp["tied"], lfp["k"]) == (
        "relu_l1", False, True, 4,
    )  # fmt: skip


def test_architecture_dependent_defaults_stay_valid():
    config = {"sae": {"architecture": "relu_l1"}, "lfp": {"sae": {"architecture": "topk"}}}
    validate(config, SCHEMA)
    assert not config["sae"]["signed"] and not config["lfp"]["sae"]["tied"]


@pytest.mark.parametrize(
    ("sae", "message"),
    [
        ({"architecture": "topk", "tied": True}, "tied encoder/decoder weights need"),
        ({"architecture": "batchtopk", "tied": True}, "tied encoder/decoder weights need"),
        ({"architecture": "relu_l1", "signed": True}, "signed latents need"),
        ({"architecture": "relu_l1", "matryoshka": [8, 32]}, "matryoshka prefixes need"),
    ],
)
def test_invalid_sae_combinations_are_schema_errors(sae, message):
    with pytest.raises(Exception, match=message):
        validate({"sae": dict(sae)}, SCHEMA)
    lfp_sae = {k: v for k, v in sae.items() if k != "matryoshka"}
    if lfp_sae != sae:  # branch L sets no prefix lengths at all
        with pytest.raises(Exception, match="matryoshka"):
            validate({"lfp": {"sae": dict(sae)}}, SCHEMA)
    else:
        with pytest.raises(Exception, match=message):
            validate({"lfp": {"sae": dict(sae)}}, SCHEMA)
