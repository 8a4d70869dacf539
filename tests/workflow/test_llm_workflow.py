"""The demo's explain and fidelity rules through an OpenAI-compatible server, with a key set.

A reduced demo runs up to fidelity with ``interpret.backend`` naming an ``openai`` backend
served by the in-process fake server. Then: the key reached the server and no file under
``results/``, ``logs/`` or ``.snakemake/`` contains it; forcing the two rules to run again
makes zero calls (all cache hits) and reproduces their outputs byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from helpers.fake_openai import FakeOpenAI, blocks, openai_backend, task_text
from smkapi import copy_workflow, run_snakemake, write_config

from prefscope.llm.prompts import ANNOTATE_SYSTEM, DESCRIBE_SYSTEM

pytestmark = pytest.mark.e2e

KEY = "sk-test-WORKFLOW-5e1f0c6a9b8d7e2f"
TARGET = "results/demo/interpret/fidelity.json"


def answer(request: dict) -> str:
    """A deterministic stand-in model: describes every feature as lists, annotates by length."""
    system, user = task_text(request)
    if system == DESCRIBE_SYSTEM:
        return '"answers with a bulleted list"'
    if system == ANNOTATE_SYSTEM:
        [a], [b] = blocks("response_a", user), blocks("response_b", user)
        numbers = re.findall(r"^(\d+)\. ", user.split("Concepts:")[1], re.M)
        lines_a, lines_b = a.count("\n"), b.count("\n")
        side = "A" if lines_a > lines_b else "B" if lines_b > lines_a else "Tie"
        return json.dumps({n: side for n in numbers})
    return "lists"


def results(interp: Path) -> dict:
    """What the two rules found, without their usage counters (those differ on a rerun)."""
    out = {"fidelity.parquet": hashlib.sha256((interp / "fidelity.parquet").read_bytes()).digest()}
    for name in ("explanations.json", "fidelity.json"):
        data = json.loads((interp / name).read_text())
        data.pop("usage", None)
        out[name] = data
    return out


def test_llm_backend_run_caches_and_never_writes_the_key(tmp_path: Path):
    wd = copy_workflow(tmp_path)
    with FakeOpenAI(responder=answer) as server:
        write_config(
            wd,
            {
                "datasets": {"demo": {"demo": {"n_pairs": 400}}},
                "sae": {"max_epochs": 5, "min_epochs": 1},
                "interpret": {"backend": "gpt", "n_candidates": 2, "scoring_n_examples": 40},
                "llm": {
                    "backends": {
                        "gpt": openai_backend(server, api_key_env="PREFSCOPE_TEST_KEY")
                    }
                },
            },
        )
        env = {"PREFSCOPE_TEST_KEY": KEY}
        first = run_snakemake(wd, "--cores", "2", TARGET, env=env)
        assert first.returncode == 0, first.stderr[-4000:]
        calls = server.calls
        assert calls > 0 and server.auth_headers[0] == f"Bearer {KEY}"
        interp = wd / "results/demo/interpret"
        before = results(interp)
        usage = json.loads((interp / "explanations.json").read_text())["usage"]
        assert usage["cache_misses"] > 0

        again = run_snakemake(wd, "--cores", "2", TARGET, "--forcerun", "explain", env=env)
        assert again.returncode == 0, again.stderr[-4000:]
        assert server.calls == calls, "the rerun must be served entirely from the cache"
    assert results(interp) == before
    rerun_usage = json.loads((interp / "explanations.json").read_text())["usage"]
    assert rerun_usage["cache_misses"] == 0 and rerun_usage["cache_hits"] > 0

    leaked = [
        str(p.relative_to(wd))
        for top in ("results", "logs", ".snakemake")
        for p in (wd / top).rglob("*")
        if p.is_file() and KEY.encode() in p.read_bytes()
    ]
    assert not leaked, f"API key written to {leaked}"
