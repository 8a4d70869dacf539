"""The llm: JSON Schema agrees with the dataclasses and accepts the example configs."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import jsonschema
import pytest
import yaml

from prefscope.llm.config import BackendConfig, LLMConfig, parse_llm_config

ROOT = Path(__file__).resolve().parents[2]
_FULL = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
SCHEMA = {**_FULL["properties"]["llm"], "$defs": _FULL["$defs"]}
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_valid_and_defaults_match_the_dataclasses():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    top = {f.name: f.default for f in fields(LLMConfig) if f.name != "backends"}
    assert {k: SCHEMA["properties"][k]["default"] for k in top} == top
    backend = SCHEMA["$defs"]["backend"]["properties"]
    for f in fields(BackendConfig):
        if f.name in ("name", "type", "model"):
            continue
        default = f.default_factory() if callable(f.default_factory) else f.default
        assert backend[f.name]["default"] == default, f.name
    assert set(backend) == {f.name for f in fields(BackendConfig)} - {"name"}


@pytest.mark.parametrize("example", ["llm_openai.yaml", "llm_vllm_serve.yaml"])
def test_examples_validate_and_parse(example):
    llm = yaml.safe_load((ROOT / "config/examples" / example).read_text())["llm"]
    VALIDATOR.validate(llm)
    cfg = parse_llm_config(llm)
    assert cfg.backends and all(b.type == "openai" for b in cfg.backends.values())


@pytest.mark.parametrize(
    "bad",
    [
        {"backends": {"lexical": {"type": "openai", "model": "m"}}},
        {"backends": {"x": {"type": "openai", "model": "m", "api_key": "sk-..."}}},
        {"backends": {"x": {"type": "http", "model": "m"}}},
        {"max_calls": 0},
    ],
)
def test_schema_rejects(bad):
    assert list(VALIDATOR.iter_errors(bad))
