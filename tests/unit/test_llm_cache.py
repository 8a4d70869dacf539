"""SQLite call cache: canonical keys, WAL, and concurrent writers from two processes."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

from prefscope.llm.cache import CallCache, cache_key

MSG = [{"role": "user", "content": "hi"}]


def test_cache_key_is_canonical_and_sensitive():
    base = cache_key("openai", "m", None, MSG, {"temperature": 0.0, "seed": 1})
    # key order of the sampling dict and extra message fields do not matter
    assert base == cache_key("openai", "m", None, [{"content": "hi", "role": "user", "name": "u"}],
                             {"seed": 1, "temperature": 0.0})
    variants = [
        cache_key("vllm", "m", None, MSG, {"temperature": 0.0, "seed": 1}),
        cache_key("openai", "m2", None, MSG, {"temperature": 0.0, "seed": 1}),
        cache_key("openai", "m", "http://h/v1", MSG, {"temperature": 0.0, "seed": 1}),
        cache_key("openai", "m", None, [{"role": "user", "content": "hi "}],
                  {"temperature": 0.0, "seed": 1}),
        cache_key("openai", "m", None, MSG, {"temperature": 0.0, "seed": 2}),
    ]
    assert len({base, *variants}) == 6
    assert len(base) == 64 and int(base, 16) >= 0


def test_put_get_roundtrip_and_wal(tmp_path):
    cache = CallCache(tmp_path / "sub" / "llm.sqlite")
    assert cache.get("k") is None
    cache.put("k", backend="openai", model="m", response="héllo", prompt_tokens=3,
              completion_tokens=1)
    got = cache.get("k")
    assert (got.response, got.prompt_tokens, got.completion_tokens) == ("héllo", 3, 1)
    cache.put("k", backend="openai", model="m", response="again", prompt_tokens=4,
              completion_tokens=2)
    assert len(cache) == 1 and cache.get("k").response == "again"
    cache.close()
    mode = sqlite3.connect(tmp_path / "sub" / "llm.sqlite").execute("PRAGMA journal_mode")
    assert mode.fetchone()[0] == "wal"


def _writer(path: str, start: int, n: int) -> None:
    cache = CallCache(path)
    for i in range(start, start + n):
        cache.put(f"k{i}", backend="openai", model="m", response=str(i), prompt_tokens=i,
                  completion_tokens=0)
    cache.close()


def test_two_processes_write_concurrently(tmp_path):
    path = str(tmp_path / "llm.sqlite")  # both processes also race to create it
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, s, 150)) for s in (0, 150)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0]
    cache = CallCache(path)
    assert len(cache) == 300
    assert cache.get("k299").response == "299" and cache.get("k0").prompt_tokens == 0
