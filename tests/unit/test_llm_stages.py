"""Branch W's explain + fidelity stages with an LLM backend served by the fake server.

A pretend LLM answers like a perfect model of one planted concept (an apology): the
stages must recover it with high fidelity, and a rerun must be served from the cache with
identical outputs and zero calls.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from helpers.fake_openai import FakeOpenAI, annotate_by_word, blocks, openai_backend, task_text

from prefscope.interpret.stage import explain, fidelity
from prefscope.io import save_npy
from prefscope.llm.prompts import ANNOTATE_SYSTEM, DESCRIBE_SYSTEM

N, N_TRAIN = 120, 80
WORDS = ["soil", "water", "seed", "leaf", "root", "rain", "light", "rake", "bean", "fence"]


def oracle(request) -> str:
    system, user = task_text(request)
    if system == DESCRIBE_SYSTEM:
        a = blocks("response_a", user)
        if sum("sorry" in t for t in a) > len(a) / 2:
            return '- "apologizes to the user"'
        return f'"mentions {len(a)} garden words"'
    if system == ANNOTATE_SYSTEM:
        return annotate_by_word(user, "apolog", "sorry")
    return "apology" if "apolog" in user else "garden words"


def make_inputs(tmp_path):
    rng = np.random.default_rng(3)
    sorry_a, sorry_b = rng.random(N) < 0.4, rng.random(N) < 0.4

    def response(apologises: bool) -> str:
        body = " ".join(rng.choice(WORDS, 6)) + "."
        return f"I am sorry. {body}" if apologises else body

    pairs = pl.DataFrame(
        {
            "pair_id": np.arange(N, dtype=np.int64),
            "prompt": [f"Tell me about {rng.choice(WORDS)}." for _ in range(N)],
            "response_A": [response(s) for s in sorry_a],
            "response_B": [response(s) for s in sorry_b],
            "label": pl.Series(rng.integers(0, 2, N), dtype=pl.Int8),
            "length_delta": np.zeros(N),
            "split": ["train"] * N_TRAIN + ["val"] * (N - N_TRAIN),
            "dedup": [True] * N,
        }
    )
    codes = np.zeros((N, 2), dtype=np.float32)
    codes[:, 0] = (sorry_a.astype(float) - sorry_b) * (0.5 + rng.random(N))
    codes[:, 1] = rng.normal(size=N) * (rng.random(N) < 0.5)
    paths = {"pairs": tmp_path / "pairs.parquet", "codes": tmp_path / "codes.npy"}
    pairs.write_parquet(paths["pairs"])
    save_npy(paths["codes"], codes)
    return {k: str(v) for k, v in paths.items()}


def run_stages(inputs, out, params):
    explain(inputs, {"explanations": str(out / "explanations.json")}, params, 1)
    fid_inputs = {**inputs, "explanations": str(out / "explanations.json")}
    fidelity(
        fid_inputs,
        {"table": str(out / "fidelity.parquet"), "stats": str(out / "fidelity.json")},
        params,
        1,
    )
    return (
        json.loads((out / "explanations.json").read_text()),
        pl.read_parquet(out / "fidelity.parquet"),
        json.loads((out / "fidelity.json").read_text()),
    )


@pytest.fixture
def server():
    with FakeOpenAI(oracle) as fake:
        yield fake


def test_explain_and_fidelity_through_the_llm_backend(tmp_path, server):
    inputs = make_inputs(tmp_path)
    params = {
        "backend": "gpt",
        "annotator": None,
        "n_candidates": 3,
        "n_examples": 8,
        "top_percentile": [50, 100],
        "max_words": 64,
        "seed": 0,
        "scoring_n_examples": 30,
        "concepts_per_call": 4,
        "fidelity_alpha": 0.05,
        "cache_path": str(tmp_path / "cache" / "llm.sqlite"),
        "llm": {"backends": {"gpt": openai_backend(server, concurrency=4)}},
    }
    explanations, table, stats = run_stages(inputs, tmp_path / "run1", params)

    f0 = explanations["features"][0]
    assert f0["candidates"] == ["apologizes to the user"] * 3
    explain_usage = explanations["usage"]
    assert explain_usage["calls"] == 6 and explain_usage["cache_misses"] == 6  # 2 features x 3

    row0 = table.row(0, named=True)
    assert row0["description"] == "apologizes to the user" and row0["label"] == "apology"
    assert row0["fidelity_r"] > 0.9 and row0["kept"] and row0["n_missing"] == 0
    assert not table.row(1, named=True)["kept"]
    assert table.get_column("n_scored").to_list() == [26, 24]  # val pairs drawn per feature
    fid_usage = stats["usage"]["annotator"]
    assert stats["usage"]["describer"] == fid_usage  # one backend object for both roles
    # one call per scored pair (the 3 candidates of a feature coincide), plus 2 labels
    assert fid_usage["calls"] == 26 + 24 + 2
    assert server.calls == explain_usage["calls"] + fid_usage["calls"]

    calls = server.calls
    again = run_stages(inputs, tmp_path / "run2", params)
    assert server.calls == calls  # a rerun makes zero calls
    assert again[0]["features"] == explanations["features"]
    assert again[1].equals(table)
    assert again[0]["usage"]["calls"] == 0 and again[0]["usage"]["cache_hits"] == 6
    assert again[2]["usage"]["annotator"]["cache_hits"] == 52
