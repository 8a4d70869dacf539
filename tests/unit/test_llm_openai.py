"""The openai backend against an in-process OpenAI-compatible server, via the real client."""

from __future__ import annotations

import time

import pytest
from helpers.fake_openai import FakeOpenAI, Reply

from prefscope.errors import BudgetExceeded, InputError
from prefscope.llm import LLMCallError, backend_from_config
from prefscope.llm.parse import parse_yes_no


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def echo(request) -> str:
    """Answer with the last user message upper-cased (deterministic, request-dependent)."""
    return request["messages"][-1]["content"].upper()


@pytest.fixture
def server():
    with FakeOpenAI(echo) as fake:
        yield fake


def config(server, tmp_path, **overrides):
    backend = {"type": "openai", "model": "fake-model", "base_url": server.url,
               "api_key_env": None, "retry_base_delay": 0.001, "retry_max_delay": 0.01,
               "max_retries": 3, "timeout": 5, "concurrency": 4,
               "price_per_million": {"prompt": 1.0, "completion": 2.0}}
    top = {k: overrides.pop(k) for k in ("max_calls", "max_tokens") if k in overrides}
    backend.update(overrides)
    return {"cache": str(tmp_path / "llm.sqlite"), "backends": {"f": backend}, **top}


def test_answers_usage_and_rerun_from_cache(server, tmp_path):
    cfg = config(server, tmp_path)
    convs = [user(f"word {i}") for i in range(10)] + [user("word 3")]  # one duplicate
    first = backend_from_config("f", cfg)
    answers = first.complete_many(convs)
    assert answers == [f"WORD {i}" for i in range(10)] + ["WORD 3"]
    assert server.calls == 10  # the duplicate is sent once
    usage = first.usage()
    assert {k: usage[k] for k in ("calls", "cache_hits", "cache_misses", "prompt_tokens",
                                  "completion_tokens", "retries", "missing")} == {
        "calls": 10, "cache_hits": 0, "cache_misses": 10, "prompt_tokens": 20,
        "completion_tokens": 20, "retries": 0, "missing": 0}
    assert usage["cost_usd"] == pytest.approx((20 * 1.0 + 20 * 2.0) / 1e6)
    req = server.requests[0]
    assert (req["model"], req["temperature"], req["max_completion_tokens"]) == (
        "fake-model", 0.0, 512)

    rerun = backend_from_config("f", cfg)
    assert rerun.complete_many(convs) == answers
    assert server.calls == 10  # zero new calls
    assert {k: rerun.usage()[k] for k in ("calls", "cache_hits", "cache_misses", "cost_usd")} == {
        "calls": 0, "cache_hits": 11, "cache_misses": 0, "cost_usd": 0.0}


def test_sampling_params_are_sent_and_keyed(server, tmp_path):
    chat = backend_from_config("f", config(server, tmp_path, token_param="max_tokens",
                                           temperature=None, extra_body={"top_k": 5}))
    chat.complete(user("a"), seed=7)
    chat.complete(user("a"), seed=8)  # a different seed is a different request
    chat.complete(user("a"), seed=7)
    assert server.calls == 2
    req = server.requests[0]
    assert req["max_tokens"] == 512 and "max_completion_tokens" not in req
    assert "temperature" not in req and req["seed"] == 7 and req["top_k"] == 5


def test_429_then_success(server, tmp_path):
    server.push(Reply(status=429, content="rate limited"), Reply(status=429))
    chat = backend_from_config("f", config(server, tmp_path))
    assert chat.complete(user("hi")) == "HI"
    assert server.statuses == [429, 429, 200]
    assert (chat.usage()["calls"], chat.usage()["retries"]) == (1, 2)


def test_retry_after_header_is_honoured(server, tmp_path):
    server.push(Reply(status=429, headers={"retry-after": "0.3"}))
    chat = backend_from_config("f", config(server, tmp_path, retry_max_delay=1.0))
    start = time.monotonic()
    assert chat.complete(user("hi")) == "HI"
    assert time.monotonic() - start >= 0.3


def test_500_until_retries_run_out(tmp_path):
    with FakeOpenAI(lambda request: Reply(status=500, content="boom")) as server:
        chat = backend_from_config("f", config(server, tmp_path, max_retries=2))
        with pytest.raises(LLMCallError, match=r"giving up after 2 retries: HTTP 500 .*boom"):
            chat.complete(user("hi"))
        assert server.calls == 3
        assert chat.usage()["calls"] == 0 and chat.budget.calls == 0  # nothing billed
        assert len(chat.cache) == 0


def test_timeout_is_retried(server, tmp_path):
    server.push(Reply(delay=1.5))
    chat = backend_from_config("f", config(server, tmp_path, timeout=0.3))
    assert chat.complete(user("slow")) == "SLOW"
    assert server.calls == 2 and chat.usage()["retries"] == 1


def test_timeouts_until_retries_run_out(tmp_path):
    with FakeOpenAI(lambda request: Reply(delay=1.0)) as server:
        chat = backend_from_config("f", config(server, tmp_path, timeout=0.2, max_retries=1))
        with pytest.raises(LLMCallError, match=r"timeout after 0.2s"):
            chat.complete(user("slow"))
        assert server.calls == 2


def test_connection_error_is_retried_then_reported(tmp_path):
    with FakeOpenAI() as server:
        url = server.url
    cfg = {"cache": None, "backends": {"f": {
        "type": "openai", "model": "m", "base_url": url, "api_key_env": None,
        "max_retries": 2, "retry_base_delay": 0.001}}}
    chat = backend_from_config("f", cfg)
    with pytest.raises(LLMCallError, match="giving up after 2 retries: cannot connect"):
        chat.complete(user("hi"))
    assert chat.usage()["retries"] == 2


@pytest.mark.parametrize("status", [400, 401, 404])
def test_other_4xx_fail_immediately(server, tmp_path, status):
    server.push(Reply(status=status, content="nope"))
    chat = backend_from_config("f", config(server, tmp_path))
    with pytest.raises(LLMCallError, match=f"HTTP {status} from f .*nope"):
        chat.complete(user("hi"))
    assert server.calls == 1


def test_broken_bodies_are_retried(server, tmp_path):
    server.push(Reply(body="not json"), Reply(body='{"choices": []}'))
    chat = backend_from_config("f", config(server, tmp_path))
    assert chat.complete(user("ok")) == "OK"
    assert server.calls == 3 and chat.usage()["retries"] == 2


def test_malformed_answer_is_repaired_and_only_the_valid_one_cached(server, tmp_path):
    server.push(Reply(content="Probably."))
    cfg = config(server, tmp_path)
    chat = backend_from_config("f", cfg)
    assert chat.complete_many([user("is it?")], parse=parse_yes_no) == [None]
    # the echo server answers each repair request with its text upper-cased: malformed too
    assert server.calls == 3 and chat.usage()["malformed"] == 3
    assert chat.usage()["missing"] == 1 and len(chat.cache) == 0

    server.push(Reply(content="Maybe"), Reply(content="Yes."))
    again = backend_from_config("f", cfg)
    assert again.complete_many([user("is it?")], parse=parse_yes_no) == [True]
    repair = server.requests[-1]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert repair[1]["content"] == "Maybe"
    assert repair[2]["content"] == (
        'That answer could not be used: the answer must be "yes" or "no". Answer again, '
        "following the required format exactly and adding nothing else."
    )
    calls = server.calls
    third = backend_from_config("f", cfg)
    assert third.complete_many([user("is it?")], parse=parse_yes_no) == [True]
    assert server.calls == calls and third.usage()["cache_hits"] == 1


def test_malformed_gives_none_after_retries(tmp_path):
    with FakeOpenAI(lambda request: "whatever") as server:
        chat = backend_from_config("f", config(server, tmp_path, malformed_retries=1))
        got = chat.complete_many([user("a"), user("b")], parse=parse_yes_no)
        assert got == [None, None] and server.calls == 4
        assert (chat.usage()["malformed"], chat.usage()["missing"]) == (4, 2)


def test_budget_stops_cleanly_and_cache_hits_are_free(server, tmp_path):
    convs = [user(f"w{i}") for i in range(5)]
    cfg = config(server, tmp_path, max_calls=3, concurrency=1)
    chat = backend_from_config("f", cfg)
    with pytest.raises(BudgetExceeded, match=r"llm.max_calls = 3 .*Answers so far are cached"):
        chat.complete_many(convs)
    assert server.calls == 3 and len(chat.cache) == 3
    # rerun with room for only the 2 missing calls: the 3 cached answers cost nothing
    resumed = backend_from_config("f", config(server, tmp_path, max_calls=2))
    assert resumed.complete_many(convs) == [f"W{i}" for i in range(5)]
    assert server.calls == 5 and resumed.usage()["cache_hits"] == 3


def test_token_budget(server, tmp_path):
    chat = backend_from_config("f", config(server, tmp_path, max_tokens=300,
                                           max_completion_tokens=256))
    chat.complete(user("one"))  # reserves 3 // 4 + 4 + 256 = 260, uses 1 + 1 tokens
    with pytest.raises(BudgetExceeded, match=r"llm.max_tokens = 300 \(used 2, this call may "
                                             r"need up to 310\)"):
        chat.complete(user("x " * 100))  # 200 // 4 + 4 + 256 = 310 > 300 - 2
    assert server.calls == 1


def test_budget_stop_under_concurrency_keeps_finished_answers(server, tmp_path):
    convs = [user(f"w{i}") for i in range(12)]
    chat = backend_from_config("f", config(server, tmp_path, max_calls=7, concurrency=4))
    with pytest.raises(BudgetExceeded):
        chat.complete_many(convs)
    assert server.calls == 7 and len(chat.cache) == 7


def test_missing_key_names_the_variable(server, tmp_path, monkeypatch):
    monkeypatch.delenv("PREFSCOPE_TEST_NO_SUCH_KEY", raising=False)
    chat = backend_from_config("f", config(server, tmp_path,
                                           api_key_env="PREFSCOPE_TEST_NO_SUCH_KEY"))
    with pytest.raises(InputError, match="environment variable PREFSCOPE_TEST_NO_SUCH_KEY is "
                                         "not set"):
        chat.complete(user("hi"))
    assert server.calls == 0
