"""What every rule declares, read from the parsed workflow (no job runs; a few seconds each).

* ``code``: each rule with a ``script:`` carries the hash of that script's import closure
  (``prefscope.codehash.script_hash``), so no library module a rule runs can be left out.
* LLM settings: a rule gets the ``llm`` section and the cache path only when it calls an LLM.
* Software environments: vLLM-backed rules use ``envs/vllm.yaml``, rules that take a GPU
  ``envs/gpu.yaml``, the rest ``envs/cpu.yaml``; every conda package is pinned.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from smkapi import REPO, copy_workflow, parsed_rules

from prefscope.codehash import script_hash

# where each LLM-calling rule finds the backend names it uses
LLM_BACKENDS = {
    "explain": (("interpret", "backend"), ("interpret", "annotator")),
    "fidelity": (("interpret", "backend"), ("interpret", "annotator")),
    "lfp_validate": (("lfp", "validation", "backend"),),
    "lfp_triples": (("lfp", "triples", "rewrite_backend"),),
}


def _backend(name: str, kind: str) -> dict:
    return {name: {"type": kind, "model": f"{kind}-model", "base_url": "http://127.0.0.1:9/v1"}}


LLM_EVERYWHERE = {
    "llm": {"backends": {**_backend("big", "vllm"), **_backend("api", "openai")}},
    "interpret": {"backend": "api", "annotator": "big"},
    "lfp": {"validation": {"backend": "big"}, "triples": {"rewrite_backend": "big"}},
}


@pytest.fixture(scope="module")
def wd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("contracts"))


@pytest.fixture(scope="module")
def default_rules(wd: Path):
    return parsed_rules(wd)


def test_every_script_rule_hashes_its_import_closure(default_rules):
    rules = default_rules
    scripted = {n: r for n, r in rules.items() if r.script}
    assert len(scripted) >= 20
    for name, rule in scripted.items():
        script = REPO / "workflow" / "scripts" / Path(rule.script).name
        assert rule.params.get("code") == script_hash(script), (
            f"rule {name}: params code must be script_code({Path(rule.script).name!r})"
        )


def test_offline_rules_get_no_llm_settings(wd: Path, default_rules):
    default = default_rules
    moved = parsed_rules(wd, config={"llm": {"cache": "elsewhere/llm.sqlite"}})
    for name in ("explain", "fidelity", "lfp_validate"):
        assert moved[name].params == default[name].params, name
        flat = repr(default[name].params)
        assert "llm.sqlite" not in flat and "'llm':" not in flat.replace("'llm': None", ""), name


def test_llm_rules_get_the_llm_settings_they_use(wd: Path):
    cfg = {**LLM_EVERYWHERE, "llm": {**LLM_EVERYWHERE["llm"], "cache": "c/llm.sqlite"}}
    rules = parsed_rules(wd, config=cfg)
    for name in ("explain", "fidelity"):
        assert rules[name].params["cache_path"] == "c/llm.sqlite"
        assert set(rules[name].params["llm"]["backends"]) == {"big", "api"}
    assert rules["lfp_validate"].params["validation"]["cache_path"] == "c/llm.sqlite"


def _lookup(config: dict, path: tuple[str, ...]):
    for key in path:
        config = config.get(key, {}) if isinstance(config, dict) else {}
    return config or None


def _expected_env(name: str, gpu, config: dict) -> str:
    table = (config.get("llm") or {}).get("backends", {})
    backends = [_lookup(config, p) for p in LLM_BACKENDS.get(name, ())]
    if any(table.get(b, {}).get("type") == "vllm" for b in backends if b):
        return "vllm.yaml"
    gpus = gpu(None) if callable(gpu) else gpu
    return "gpu.yaml" if gpus else "cpu.yaml"


@pytest.mark.parametrize("config", [{}, LLM_EVERYWHERE], ids=["offline", "vllm-and-api"])
def test_each_rule_uses_the_env_of_its_resources_and_backend(wd: Path, default_rules, config):
    rules = parsed_rules(wd, config=config) if config else default_rules
    used = set()
    for name, rule in rules.items():
        if name == "all":
            continue
        assert rule.conda, f"rule {name} has no conda: directive"
        env = (REPO / "workflow" / "rules" / rule.conda).resolve()
        assert env.parent == REPO / "envs" and env.is_file(), (name, rule.conda)
        assert env.name == _expected_env(name, rule.gpu, config), (name, rule.gpu, env.name)
        used.add(env.name)
    if config:
        assert {"vllm.yaml", "gpu.yaml", "cpu.yaml"} <= used
        assert rules["lfp_triples"].gpu == 1 and rules["explain"].gpu == 1  # big = vLLM
    else:
        assert rules["train_sae"].gpu == 1 and "vllm.yaml" not in used


def test_conda_envs_pin_their_packages():
    for path in sorted((REPO / "envs").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        assert spec["channels"][-1] == "nodefaults", path.name
        conda = [d for d in spec["dependencies"] if isinstance(d, str) and d != "pip"]
        assert conda, path.name
        for dep in conda:
            version = dep.partition(" =")[2]
            assert version and version.count(".") == 2, f"{path.name}: pin {dep!r} exactly"
