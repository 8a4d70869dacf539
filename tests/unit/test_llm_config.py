"""The llm: config section: defaults and errors that name the key."""

from __future__ import annotations

import pytest

from prefscope.errors import InputError
from prefscope.llm.config import parse_llm_config


def test_defaults():
    cfg = parse_llm_config({})
    assert (cfg.cache, cfg.max_calls, cfg.max_tokens, cfg.backends) == (
        "results/cache/llm.sqlite", 20000, 20_000_000, {})
    b = parse_llm_config({"backends": {"gpt": {"type": "openai", "model": "gpt-4.1-mini"}}}
                         ).backend("gpt")
    assert (b.name, b.api_key_env, b.concurrency, b.max_retries, b.temperature,
            b.max_completion_tokens, b.endpoint) == (
        "gpt", "OPENAI_API_KEY", 4, 5, 0.0, 512, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"backend": {}}, "column 'llm': unknown key(s) backend"),
        ({"backends": {"x": {"type": "http", "model": "m"}}},
         "column 'llm.backends.x.type': type must be one of openai, vllm, transformers"),
        ({"backends": {"x": {"type": "openai"}}}, "column 'llm.backends.x.model'"),
        ({"backends": {"x": {"type": "openai", "model": "m", "api_key": "sk-1"}}},
         "column 'llm.backends.x': unknown key(s) api_key;"),
        ({"backends": {"x": {"type": "openai", "model": "m", "concurrency": 0}}},
         "column 'llm.backends.x.concurrency': must be a positive integer, got 0"),
        ({"backends": {"x": {"type": "openai", "model": "m", "token_param": "n"}}},
         "column 'llm.backends.x.token_param'"),
        ({"max_calls": -1}, "column 'llm.max_calls': must be a positive integer"),
        ({"backends": {"lexical": {"type": "openai", "model": "m"}}}, "built-in offline"),
    ],
)
def test_errors_name_the_key(raw, message):
    with pytest.raises(InputError) as err:
        parse_llm_config(raw)
    assert message in str(err.value)


def test_unknown_backend_lists_known_ones():
    cfg = parse_llm_config({"backends": {"a": {"type": "vllm", "model": "m"}}})
    with pytest.raises(InputError, match=r"no LLM backend named 'gpt' \(defined in "
                                         r"llm.backends: a\)"):
        cfg.backend("gpt")
