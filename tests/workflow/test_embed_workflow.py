"""Branch W of the demo with ``embed.model: openai:...`` against the in-process fake server.

The fake embeds by hashed bag of words and markup (``helpers.fake_openai.hashed_bow``), which
is enough for the demo's strongest planted concepts. With a key set and two faults staged
(429, 500): the run retries them and succeeds, recovers the concepts, writes the key to no
file, and a forced re-run of ``embed`` makes zero requests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.fake_openai import FakeOpenAI, Reply
from smkapi import copy_workflow, plan, run_snakemake, write_config

pytestmark = pytest.mark.e2e

KEY = "sk-test-EMBED-WORKFLOW-7d1e4b2a9c"
DIM = 128
# measured with these settings: |correlation| 0.75 (bullets), 0.87 (refusal), 0.88 (bold),
# 0.58 (apology); every weighted concept with its planted sign, q < 0.01
STRONGEST = ("bullets", "refusal")


def test_demo_through_an_embeddings_endpoint(tmp_path: Path):
    wd = copy_workflow(tmp_path)
    env = {"PREFSCOPE_TEST_KEY": KEY}
    with FakeOpenAI(embed_dim=256) as server:
        write_config(
            wd,
            {
                "datasets": {"demo": {"demo": {"n_pairs": 1200}}},
                "embed": {
                    "model": "openai:fake-embed",
                    "base_url": server.url,
                    "api_key_env": "PREFSCOPE_TEST_KEY",
                    "dimensions": DIM,
                    "retry_base_delay": 0.001,
                    "price_per_million": 0.02,
                },
                "sae": {"max_epochs": 40},
                "analyze": {"n_bootstrap": 100},
            },
        )
        server.push(Reply(status=429), Reply(status=500))
        first = run_snakemake(wd, "--cores", "2", "results/demo/summary.json", env=env)
        assert first.returncode == 0, first.stderr[-4000:]
        requests = server.calls
        assert server.auth_headers and set(server.auth_headers) == {f"Bearer {KEY}"}
        assert {r["dimensions"] for r in server.requests} == {DIM}
        meta_path = wd / "results/demo/embed/meta.json"
        meta = json.loads(meta_path.read_text())
        target = ("results/demo/summary.json",)
        fetching = {"batch_size": 7, "concurrency": 3, "max_retries": 1, "timeout": 9}
        assert plan(wd, config={"embed": fetching}, targets=target) == []
        redo = plan(wd, config={"embed": {"dimensions": 64}}, targets=target)
        assert "results/demo/embed/deltas.npy" in redo and "results/demo/pairs.parquet" not in redo

        again = run_snakemake(
            wd, "--cores", "2", str(meta_path.relative_to(wd)), "--forcerun", "embed", env=env
        )
        assert again.returncode == 0, again.stderr[-4000:]
        assert server.calls == requests, "the forced re-run must be served from the cache"

    usage = meta["usage"]
    assert meta["dim"] == DIM and usage["retries"] == 2
    assert (
        usage["requests"] == requests - 2 and usage["cache_misses"] == meta["texts"]["n_distinct"]
    )
    assert usage["cost_usd"] == pytest.approx(usage["tokens"] * 0.02 / 1e6)
    assert meta["truncation"]["n_truncated"] == 0
    rerun = json.loads(meta_path.read_text())["usage"]
    assert rerun["requests"] == 0 and rerun["cache_hits"] == meta["texts"]["n_distinct"]

    summary = json.loads((wd / "results/demo/summary.json").read_text())
    rows = {r["concept"]: r for r in summary["planted_recovery"]}
    for concept in STRONGEST:
        r = rows[concept]
        assert abs(r["correlation"]) >= 0.7 and r["q"] < 0.05 and r["sign_recovered"], r
    weighted = [r for r in rows.values() if r["true_weight"] != 0]
    assert sum(bool(r.get("sign_recovered")) for r in weighted) >= 3

    leaked = [
        str(p.relative_to(wd))
        for top in ("results", "logs", ".snakemake", "config")
        for p in (wd / top).rglob("*")
        if p.is_file() and KEY.encode() in p.read_bytes()
    ]
    assert not leaked, f"API key written to {leaked}"
