"""The embedding cache: each distinct text is embedded once per model identity."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from prefscope.embed.cache import EmbeddingCache
from prefscope.embed.encode import STEmbedder, embed_texts
from prefscope.embed.model import ResolvedModel, resolve_model
from prefscope.embed.stage import embed
from prefscope.errors import InputError


class CountingEncoder:
    """Stands in for a SentenceTransformer: deterministic vectors, counts what it encodes."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, **kwargs):
        self.seen += list(texts)
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)


def test_second_run_embeds_zero_texts_and_model_change_reembeds(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    texts = ["a cat", "a dog", "a cat", "bird"]
    enc = CountingEncoder()
    m1 = STEmbedder(ResolvedModel("x", "model-one"), encoder=enc)
    v1, s1 = embed_texts(texts, m1, cache)
    assert (s1.n_distinct, s1.n_embedded, s1.n_cached) == (3, 3, 0)
    assert sorted(enc.seen) == ["a cat", "a dog", "bird"]
    assert np.array_equal(v1[0], v1[2])
    enc.seen.clear()
    v2, s2 = embed_texts(texts, m1, cache)
    assert s2.n_embedded == 0 and enc.seen == [] and np.array_equal(v1, v2)
    _, s3 = embed_texts(texts, STEmbedder(ResolvedModel("x", "model-two"), encoder=enc), cache)
    assert s3.n_embedded == 3  # another model never reuses these vectors
    assert cache.count("model-one") == 3 and cache.count() == 6


def test_identity_of_local_directory_tracks_weights(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"weights-1")
    first = resolve_model(str(tmp_path)).identity
    (tmp_path / "model.safetensors").write_bytes(b"weights-2")
    assert resolve_model(str(tmp_path)).identity != first
    assert resolve_model("org/name", "abc").identity == "hub:org/name@abc"
    with pytest.raises(InputError, match="does not exist"):
        resolve_model("./no/such/dir")


def test_stage_with_real_minilm_writes_deltas_and_reuses_cache(tmp_path):
    pairs = pl.DataFrame(
        {
            "prompt": ["q", "q"],
            "response_A": ["I love this movie", "The stock market crashed"],
            "response_B": ["I adore this film", "I love this movie"],
        }
    )
    pairs.write_parquet(tmp_path / "pairs.parquet")
    params = {
        "model": "builtin:minilm",
        "max_words": 128,
        "backend": {"revision": None, "batch_size": 8, "device": None},
        "cache": str(tmp_path / "cache.sqlite"),
    }
    out = {"deltas": tmp_path / "d.npy", "meta": tmp_path / "m.json"}
    embed({"pairs": tmp_path / "pairs.parquet"}, out, params, 1)
    deltas = np.load(out["deltas"])
    assert deltas.shape == (2, 384)
    # near-paraphrases differ less than unrelated sentences
    assert np.linalg.norm(deltas[0]) < np.linalg.norm(deltas[1])
    meta = json.loads(out["meta"].read_text())
    assert meta["texts"]["n_distinct"] == 3 and meta["texts"]["n_embedded"] == 3
    embed({"pairs": tmp_path / "pairs.parquet"}, out, params, 1)
    meta = json.loads(out["meta"].read_text())
    assert meta["texts"]["n_embedded"] == 0 and meta["texts"]["n_cached"] == 3
    assert np.array_equal(np.load(out["deltas"]), deltas)
