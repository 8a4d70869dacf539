"""The API key reaches the server and nothing else: not the cache, logs, usage or errors."""

from __future__ import annotations

import logging

import pytest
from helpers.fake_openai import FakeOpenAI, Reply

from prefscope.interpret.backend import PairText
from prefscope.llm import LLMCallError, make_feature_backend

KEY = "sk-test-PREFSCOPE-0123456789abcdef"


def test_key_never_written(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PREFSCOPE_TEST_KEY", KEY)
    caplog.set_level(logging.DEBUG)  # every logger, including openai and httpx
    pair = PairText("p", "a", "b")
    with FakeOpenAI(lambda request: '{"1": "A"}') as server:
        cfg = {"cache": str(tmp_path / "cache" / "llm.sqlite"), "backends": {"gpt": {
            "type": "openai", "model": "fake", "base_url": server.url,
            "api_key_env": "PREFSCOPE_TEST_KEY", "retry_base_delay": 0.001,
            "max_retries": 1}}}
        backend = make_feature_backend("gpt", cfg)
        assert backend.annotate([pair], ["c"]).tolist() == [[1.0]]
        # retried and failing calls whose error bodies echo the key
        server.push(Reply(status=500, content=f"bad {KEY}"), Reply(status=401,
                                                                   content=f"key {KEY}"))
        with pytest.raises(LLMCallError) as err:
            backend.chat.complete([{"role": "user", "content": "x"}])
        usage = backend.usage()
        backend.chat.cache.close()
    assert server.auth_headers[0] == f"Bearer {KEY}"  # the key was really used
    assert "***" in str(err.value) and KEY not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert KEY not in repr(usage) and KEY not in repr(cfg)
    assert KEY not in caplog.text and "HTTP 500" in caplog.text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "llm.sqlite" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
