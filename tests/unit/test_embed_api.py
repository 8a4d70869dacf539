"""Embeddings through an OpenAI-compatible endpoint (the in-process fake server, real client),
the offline vLLM embedder's requests (with a stub ``vllm``), truncation and instructions."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import polars as pl
import pytest
from helpers.fake_openai import FakeOpenAI, Reply, hashed_bow

from prefscope.embed.api import APIEmbedder, APISettings
from prefscope.embed.cache import EmbeddingCache
from prefscope.embed.encode import embed_texts
from prefscope.embed.stage import build_embedder, embed, render_instruction
from prefscope.embed.truncate import openai_truncator
from prefscope.embed.vllm import VLLMEmbedder, VLLMSettings
from prefscope.errors import BudgetExceeded, InputError
from prefscope.llm import LLMCallError

KEY = "sk-test-EMBED-0123456789abcdef"
TEXTS = [f"text number {i} about topic {i % 3}" for i in range(10)]


def settings(server: FakeOpenAI, **kw) -> APISettings:
    base = {
        "model": "fake-embed",
        "base_url": server.url,
        "api_key_env": None,
        "batch_size": 4,
        "concurrency": 2,
        "retry_base_delay": 0.0,
        "retry_max_delay": 0.01,
        "max_retries": 2,
        "timeout": 5,
    }
    return APISettings(**{**base, **kw})


def run(embedder: APIEmbedder, texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), embedder.dim or 0), np.float32)
    got: dict[int, np.ndarray] = {}
    embedder.encode(texts, lambda pos, vec: got.update(zip(pos, vec, strict=True)), progress=False)
    if got:
        out = np.stack([got[i] for i in range(len(texts))])
    return out


def test_batches_dimensions_usage_and_cost():
    with FakeOpenAI(embed_dim=16) as server:
        emb = APIEmbedder(settings(server, dimensions=8, price_per_million=2.0))
        vectors = run(emb, TEXTS)
    assert server.calls == 3  # 10 texts in batches of 4
    assert sorted(len(r["input"]) for r in server.requests) == [2, 4, 4]
    assert {r["dimensions"] for r in server.requests} == {8}
    assert {r["encoding_format"] for r in server.requests} == {"float"}
    assert vectors.shape == (10, 8)
    np.testing.assert_allclose(vectors[3], hashed_bow(TEXTS[3], 8), rtol=1e-6)
    usage = emb.usage()
    assert usage["calls"] == 3 and usage["retries"] == 0
    assert usage["prompt_tokens"] == sum(len(t.split()) for t in TEXTS) == 60
    assert usage["cost_usd"] == pytest.approx(60 * 2.0 / 1e6)


def test_requests_run_concurrently_up_to_the_limit():
    with FakeOpenAI() as server:
        server.push(*[Reply(delay=0.2) for _ in range(9)])
        emb = APIEmbedder(settings(server, batch_size=1, concurrency=3))
        vectors = run(emb, TEXTS[:9])
    assert server.calls == 9 and vectors.shape == (9, 64)
    assert 2 <= server.max_in_flight <= 3


@pytest.mark.parametrize(
    "fault",
    [
        Reply(status=429, headers={"retry-after": "0"}),
        Reply(status=500),
        Reply(delay=1.5),  # past the 1 s timeout
        Reply(mutate=lambda body: {**body, "data": body["data"][:-1]}),  # a vector short
        Reply(
            mutate=lambda body: {
                **body,
                "data": [{**d, "embedding": d["embedding"][:5]} for d in body["data"]],
            }
        ),  # wrong length
    ],
    ids=["429", "500", "timeout", "wrong-count", "wrong-dimension"],
)
def test_transient_faults_are_retried(fault):
    with FakeOpenAI() as server:
        server.push(fault)
        emb = APIEmbedder(settings(server, dimensions=8, batch_size=10, timeout=1))
        vectors = run(emb, TEXTS)
    assert server.calls == 2 and emb.usage()["retries"] == 1
    np.testing.assert_allclose(vectors[0], hashed_bow(TEXTS[0], 8), rtol=1e-6)


def test_persistent_fault_is_reported_and_nothing_wrong_is_cached(tmp_path):
    """Batch 1 answers, batch 2 always has the wrong length: the run fails naming the defect;
    only batch 1 is cached, and the re-run requests batch 2 alone."""
    bad = Reply(
        mutate=lambda b: {**b, "data": [{**d, "embedding": d["embedding"][:3]} for d in b["data"]]}
    )
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    with FakeOpenAI() as server:
        server.push(Reply(), bad, bad, bad)
        emb = APIEmbedder(settings(server, dimensions=8, batch_size=5, concurrency=1))
        with pytest.raises(LLMCallError, match=r"vector length 3 \(expected 8\)"):
            embed_texts(TEXTS, emb, cache, progress=False)
        assert cache.count(emb.identity) == 5
        assert {len(v) for v in cache.get(emb.identity, list(cache_keys(TEXTS))).values()} == {8}
        before = server.calls
        again = APIEmbedder(settings(server, dimensions=8, batch_size=5, concurrency=1))
        vectors, stats = embed_texts(TEXTS, again, cache, progress=False)
    assert server.calls == before + 1 and (stats.n_cached, stats.n_embedded) == (5, 5)
    assert vectors.shape == (10, 8)


def cache_keys(texts):
    from prefscope.embed.cache import text_key

    return [text_key(t) for t in texts]


def test_http_error_is_not_retried_and_key_is_redacted(monkeypatch):
    monkeypatch.setenv("PREFSCOPE_EMBED_KEY", KEY)
    with FakeOpenAI() as server:
        server.push(Reply(status=401, content=f"bad key {KEY}"))
        emb = APIEmbedder(settings(server, api_key_env="PREFSCOPE_EMBED_KEY"))
        with pytest.raises(LLMCallError) as err:
            run(emb, TEXTS[:2])
    assert server.calls == 1 and server.auth_headers[0] == f"Bearer {KEY}"
    assert "HTTP 401" in str(err.value) and KEY not in str(err.value) and "***" in str(err.value)


def test_missing_key_variable_is_named(monkeypatch):
    monkeypatch.delenv("PREFSCOPE_EMBED_KEY", raising=False)
    with FakeOpenAI() as server:
        emb = APIEmbedder(settings(server, api_key_env="PREFSCOPE_EMBED_KEY"))
        with pytest.raises(InputError, match="PREFSCOPE_EMBED_KEY is not set") as err:
            run(emb, TEXTS[:2])
    assert server.calls == 0 and "embed.api_key_env" in str(err.value)


def test_budget_stops_the_run():
    with FakeOpenAI() as server:
        emb = APIEmbedder(settings(server, max_requests=2, concurrency=1))
        with pytest.raises(BudgetExceeded, match="max_calls = 2"):
            run(emb, TEXTS)
    assert server.calls == 2


def test_cache_identity_names_endpoint_model_and_dimensions():
    a = APISettings(model="text-embedding-3-small")
    assert a.identity == "openai:text-embedding-3-small@https://api.openai.com/v1#dim=native"
    b = APISettings(model="m", base_url="http://node:8000/v1/", dimensions=256)
    assert b.identity == "openai:m@http://node:8000/v1#dim=256"


def test_stage_meta_rerun_is_free_and_key_never_written(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFSCOPE_EMBED_KEY", KEY)
    long = " ".join(["word"] * 40)
    pairs = pl.DataFrame(
        {
            "prompt": ["q", "q", "r"],
            "response_A": ["a b", long, "c"],
            "response_B": ["c", "a b", "d"],
        }
    )
    pairs.write_parquet(tmp_path / "pairs.parquet")
    out = {"deltas": tmp_path / "d.npy", "meta": tmp_path / "m.json"}
    with FakeOpenAI() as server:
        params = {
            "model": "openai:fake-embed",
            "max_words": 128,
            "instruction": None,
            "backend": {"base_url": server.url, "dimensions": 12, "max_input_tokens": 20},
            "cache": str(tmp_path / "cache.sqlite"),
        }
        runtime = {
            "api_key_env": "PREFSCOPE_EMBED_KEY",
            "batch_size": 2,
            "concurrency": 2,
            "price_per_million": 0.02,
        }
        embed({"pairs": tmp_path / "pairs.parquet"}, out, params, 1, config={"embed": runtime})
        meta = json.loads(out["meta"].read_text())
        calls = server.calls
        embed({"pairs": tmp_path / "pairs.parquet"}, out, params, 1, config={"embed": runtime})
        assert server.calls == calls  # the re-run asks for nothing
        rerun = json.loads(out["meta"].read_text())
    assert meta["dim"] == 12 and np.load(out["deltas"]).shape == (3, 12)
    assert meta["texts"] == {"n_texts": 6, "n_distinct": 4, "n_cached": 0, "n_embedded": 4}
    assert calls == 2 and meta["usage"]["requests"] == 2
    assert meta["truncation"] == {"method": "words", "limit": 20, "n_truncated": 1}
    assert meta["usage"]["cost_usd"] == pytest.approx(meta["usage"]["tokens"] * 0.02 / 1e6)
    assert rerun["usage"]["requests"] == 0 and rerun["usage"]["cache_hits"] == 4
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_truncation_by_tiktoken_when_it_knows_the_model(monkeypatch):
    class Encoding:
        name = "fake_base"

        def encode(self, text, disallowed_special=()):
            return list(text)  # one token per character

        def decode(self, tokens):
            return "".join(tokens)

    stub = types.SimpleNamespace(encoding_for_model=lambda m: Encoding())
    monkeypatch.setitem(sys.modules, "tiktoken", stub)
    cut = openai_truncator("text-embedding-3-small", 5)
    assert cut.cut(["abcdefgh", "abc"]) == ["abcde", "abc"]
    assert cut.record() == {"method": "tiktoken:fake_base", "limit": 5, "n_truncated": 1}

    def unknown(model):
        raise KeyError(model)

    monkeypatch.setitem(sys.modules, "tiktoken", types.SimpleNamespace(encoding_for_model=unknown))
    words = openai_truncator("Qwen/Qwen3-Embedding-8B", 4)  # 0.75 words per token -> 3 words
    assert words.cut(["a b c d e", "a b"]) == ["a b c", "a b"] and words.method == "words"
    assert openai_truncator("m", None).cut(["x " * 10000]) == ["x " * 10000]


def test_instruction_template_fills_fields_once():
    template = "Instruct: judge\nQuery: User: {prompt} Assistant: {response}"
    assert render_instruction(template, "hi {response}", "yo") == (
        "Instruct: judge\nQuery: User: hi {response} Assistant: yo"
    )
    assert render_instruction("Represent:", "p", "r") == "Represent:\nUser: p\nAssistant: r"


class _StubVLLM(types.ModuleType):
    """A ``vllm`` stand-in that records what the embedder asks for."""

    def __init__(self) -> None:
        super().__init__("vllm")
        self.engines: list[dict] = []
        stub = self

        class Tokenizer:
            def encode(self, text, add_special_tokens=False):
                return text.split()

            def decode(self, ids):
                return " ".join(ids)

        class LLM:
            def __init__(self, **kwargs):
                stub.engines.append(kwargs)
                self.calls: list[tuple[list[str], dict]] = []

            def get_tokenizer(self):
                return Tokenizer()

            def embed(self, prompts, use_tqdm=True, pooling_params=None):
                self.calls.append((list(prompts), {"pooling_params": pooling_params}))
                dim = pooling_params.dimensions if pooling_params else 4
                return [
                    types.SimpleNamespace(
                        outputs=types.SimpleNamespace(embedding=[float(len(p.split()))] * dim)
                    )
                    for p in prompts
                ]

        class PoolingParams:
            def __init__(self, dimensions=None):
                self.dimensions = dimensions

        self.LLM, self.PoolingParams = LLM, PoolingParams


def test_vllm_embedder_builds_a_pooling_engine_and_cuts_by_tokens(monkeypatch, tmp_path):
    stub = _StubVLLM()
    monkeypatch.setitem(sys.modules, "vllm", stub)
    params = {
        "model": "vllm:Qwen/Qwen3-Embedding-8B",
        "max_words": 128,
        "backend": {
            "revision": None,
            "dimensions": 6,
            "max_input_tokens": 3,
            "engine": {"dtype": "bfloat16", "max_model_len": None, "tensor_parallel_size": 2},
        },
    }
    embedder, _ = build_embedder(params, {"batch_size": None})
    assert isinstance(embedder, VLLMEmbedder) and stub.engines == []  # lazy
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    vectors, _ = embed_texts(["one two three four five", "one"], embedder, cache, progress=False)
    assert stub.engines == [
        {
            "model": "Qwen/Qwen3-Embedding-8B",
            "runner": "pooling",
            "dtype": "bfloat16",
            "tensor_parallel_size": 2,
        }
    ]
    prompts, kwargs = embedder.engine().calls[0]
    assert prompts == ["one two three", "one"] and kwargs["pooling_params"].dimensions == 6
    assert vectors.shape == (2, 6) and vectors[0, 0] == 3.0 and embedder.n_truncated == 1
    assert (
        embedder.identity
        == VLLMSettings("Qwen/Qwen3-Embedding-8B", dimensions=6, max_input_tokens=3).identity
    )


def test_vllm_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import fails
    embedder = VLLMEmbedder(VLLMSettings("m"))
    with pytest.raises(RuntimeError, match=r"prefscope\[vllm\]"):
        embedder.engine()
