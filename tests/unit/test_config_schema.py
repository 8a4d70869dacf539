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
