"""The config schema is the one source of defaults: every dataclass that mirrors a config
section (schema keyword ``x-dataclass``) has the schema's defaults, and the shared SAE block
turns invalid architecture combinations into schema errors.

A section's defaults are read from what ``snakemake.utils.validate`` actually fills in, so
``$ref`` blocks, architecture-dependent defaults and keyword order are all covered.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = str(ROOT / "workflow/schemas/config.schema.yaml")
SCHEMA = yaml.safe_load(Path(SCHEMA_PATH).read_text())
ENTRY = "entry"  # one named entry of an additionalProperties mapping
# The smallest config that reaches every section (named entries included).
MINIMAL = {
    "datasets": {ENTRY: {"source": "demo"}},
    "llm": {"backends": {ENTRY: {"type": "openai", "model": "m"}}},
    "lfp": {"runs": {ENTRY: {"task": "vader", "algorithm": "grpo"}}},
}

# Dataclass fields with a default that are deliberately not user settings in that section.
NOT_SETTINGS = {
    # training mechanics of prefscope.sae, fixed by the library and never configured
    "TrainConfig.grad_clip": "gradient-norm clip of the SAE optimiser",
    "TrainConfig.threshold_ema": "EMA rate of the BatchTopK inference threshold",
    "TrainConfig.progress": "progress bars: a property of the caller (a stage or a notebook)",
    "TrainConfig.device": "branch W picks CUDA when available; no setting",
    # branch L derives both dictionary widths from d_model x multiple, so absolute prefix
    # lengths cannot be given, and it trains max_epochs epochs (no early-stopping knobs)
    "lfp.sae:SAEConfig.matryoshka": "widths derive from d_model x multiple",
    # the shared SAE block leaves the width out (sae.n_latents, lfp.sae.multiple), and with
    # it the prefix lengths that must end at the width (sae.matryoshka)
    "$defs/sae_architecture:SAEConfig.matryoshka": "set next to the width, in sae",
    "lfp.sae:TrainConfig.min_epochs": "branch L trains max_epochs (paper)",
    "lfp.sae:TrainConfig.patience": "branch L trains max_epochs (paper)",
    # embed: the runtime settings of each embedder kind, built by prefscope.embed.stage
    "VLLMSettings.engine": "the embed.vllm section, renamed when passed on",
}

# Defaults where a section legitimately differs from the library dataclass, with the value
# the section's validated config gets; anything not listed here must agree.
SECTION_DEFAULTS = {
    # branch W: embedding differences are antisymmetric, so W's SAE is signed (topk /
    # batchtopk; relu_l1 keeps the library's unsigned default)
    "sae:SAEConfig.signed": True,
    # branch L: the paper's tied ReLU + L1 dictionaries and their training
    "lfp.sae:SAEConfig.architecture": "relu_l1",
    "lfp.sae:SAEConfig.tied": True,  # relu_l1 only; topk / batchtopk get False
    "lfp.sae:TrainConfig.lr": 0.001,
    "lfp.sae:TrainConfig.batch_size": 32,
    "lfp.sae:TrainConfig.max_epochs": 3,
    # embed: null batch size = each embedder kind's own (prefscope.embed.stage)
    "embed:APISettings.batch_size": None,
    "embed:VLLMSettings.batch_size": None,
}


def dataclass_nodes(node: Any, where: tuple[str, ...] = ()) -> Iterator[tuple[str, dict]]:
    """(dotted config path or $defs/<name>, schema node) of every node with x-dataclass."""
    if not isinstance(node, dict):
        return
    if "x-dataclass" in node:
        yield ".".join(where), node
    for key, child in (node.get("properties") or {}).items():
        yield from dataclass_nodes(child, (*where, key))
    if isinstance(node.get("additionalProperties"), dict):
        yield from dataclass_nodes(node["additionalProperties"], (*where, ENTRY))
    if not where:
        for key, child in node.get("$defs", {}).items():
            if "x-dataclass" in child:
                yield f"$defs/{key}", child


@functools.cache
def validated(with_entries: bool) -> dict:
    """The empty config (or MINIMAL, for sections under named entries) with defaults."""
    config = copy.deepcopy(MINIMAL) if with_entries else {}
    validate(config, SCHEMA_PATH)
    return config


def filled_defaults(path: str, node: dict) -> dict[str, Any]:
    """What a section gets when the user sets nothing; a $defs block's own defaults."""
    if path.startswith("$defs/"):
        return {k: p["default"] for k, p in node["properties"].items() if "default" in p}
    config: Any = validated(ENTRY in path.split("."))
    for key in path.split("."):
        config = config[key]
    if path.startswith("llm.backends."):
        config = {k: v for k, v in config.items() if k not in ("type", "model")}
    return config


def normalise(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [normalise(v) for v in value]
    return value


def field_default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def load(target: str) -> type:
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def pairs() -> list[tuple[str, dict, str]]:
    out = []
    for path, node in dataclass_nodes(SCHEMA):
        targets = node["x-dataclass"]
        for target in [targets] if isinstance(targets, str) else targets:
            out.append((path, node, target))
    return out


def dataclass_alone(node: dict) -> bool:
    """``x-defaults: dataclass``: the dataclass is the one source of the section's defaults
    and the schema states none (Snakemake fills no defaults inside a section that may be
    null; the demo's truth is a set of overrides of the planted defaults)."""
    return node.get("x-defaults") == "dataclass"


@pytest.mark.parametrize(
    ("path", "node", "target"),
    [p for p in pairs() if not dataclass_alone(p[1])],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_dataclass_defaults_are_the_schemas(path, node, target):
    cls = load(target)
    filled = filled_defaults(path, node)
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            continue
        name = f"{cls.__name__}.{f.name}"
        if f.name not in filled:
            assert name in NOT_SETTINGS or f"{path}:{name}" in NOT_SETTINGS, (
                f"{target} field {f.name} has a default but no schema property under {path}; "
                "add it to the schema or to NOT_SETTINGS with the reason"
            )
            continue
        ours, theirs = normalise(filled[f.name]), normalise(field_default(f))
        key = f"{path}:{name}"
        if key in SECTION_DEFAULTS:
            assert ours == SECTION_DEFAULTS[key] and ours != theirs, key
        else:
            assert ours == theirs, f"{path}.{f.name}: schema {ours!r} != {target} {theirs!r}"


@pytest.mark.parametrize(
    ("path", "node", "target"),
    [p for p in pairs() if dataclass_alone(p[1])],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_dataclass_defaults_section_states_none_in_the_schema(path, node, target):
    props = node["properties"]
    assert set(props) <= {f.name for f in dataclasses.fields(load(target))}, path
    stated = sorted(k for k, p in props.items() if "default" in p)
    assert stated == [], f"{path}: defaults {stated} belong to {target} alone"


def test_every_listed_exception_is_used():
    used = {f"{p}:{load(t).__name__}" for p, _, t in pairs()}
    classes = {load(t).__name__ for _, _, t in pairs()}
    for key in SECTION_DEFAULTS:
        assert key.rsplit(".", 1)[0] in used, key
    for key in NOT_SETTINGS:
        head = key.rsplit(".", 1)[0]
        assert head in used or head in classes, key


def test_the_branch_l_dataclasses_are_pinned():
    names = {t.split(":")[1] for _, _, t in pairs()}
    assert {
        "SAEConfig", "TrainConfig", "LLMConfig", "BackendConfig", "HarvestConfig",
        "DeltaConfig", "ProbeConfig", "TripleConfig", "CorpusConfig", "SampleConfig",
        "RLConfig", "DPOSettings", "TinyNeoXConfig", "RewardModelSettings", "DemoTruth",
    } <= names  # fmt: skip
