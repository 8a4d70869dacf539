"""Backoff with jitter, and the per-run budget."""

from __future__ import annotations

import random

import pytest

from prefscope.errors import BudgetExceeded
from prefscope.llm.budget import Budget, Usage, estimate_tokens
from prefscope.llm.retry import RetryPolicy, TransientError, with_retries


def test_delay_is_full_jitter_under_an_exponential_cap():
    policy = RetryPolicy(max_retries=8, base_delay=1.0, max_delay=10.0)
    rng = random.Random(0)
    for attempt, cap in enumerate([1, 2, 4, 8, 10, 10]):
        draws = [policy.delay(attempt, rng) for _ in range(200)]
        assert min(draws) >= 0.0 and max(draws) <= cap
        assert max(draws) > 0.8 * cap  # spread over the whole interval
    assert policy.delay(0, rng, retry_after=5.0) >= 5.0
    assert policy.delay(0, rng, retry_after=500.0) == 10.0  # hint capped at max_delay


def test_with_retries_counts_and_gives_up():
    sleeps: list[float] = []
    outcomes = iter([TransientError("429"), TransientError("500"), "ok"])

    def attempt():
        item = next(outcomes)
        if isinstance(item, Exception):
            raise item
        return item

    policy = RetryPolicy(max_retries=5, base_delay=0.5, max_delay=4.0)
    assert with_retries(attempt, policy, sleep=sleeps.append, rng=random.Random(1)) == ("ok", 2)
    assert len(sleeps) == 2 and sleeps[0] <= 0.5 and sleeps[1] <= 1.0

    def always():
        raise TransientError("down")

    sleeps.clear()
    with pytest.raises(TransientError, match="down"):
        with_retries(always, RetryPolicy(max_retries=3), sleep=sleeps.append)
    assert len(sleeps) == 3


def test_non_transient_errors_are_not_retried():
    calls = []

    def attempt():
        calls.append(1)
        raise ValueError("400 bad request")

    with pytest.raises(ValueError):
        with_retries(attempt, RetryPolicy(max_retries=5), sleep=lambda s: None)
    assert len(calls) == 1


def test_budget_calls_and_tokens():
    budget = Budget(max_calls=2, max_tokens=None, owner="gpt")
    budget.reserve(10)
    budget.settle(10, 7)
    budget.reserve(10)
    with pytest.raises(BudgetExceeded, match=r"'gpt' reached llm.max_calls = 2 .* raise "
                                             r"llm.max_calls"):
        budget.reserve(10)
    budget.release(10)  # a failed call gives its slot back
    budget.reserve(10)

    tokens = Budget(max_calls=None, max_tokens=100)
    tokens.reserve(60)
    with pytest.raises(BudgetExceeded, match=r"llm.max_tokens = 100 \(used 0, this call may "
                                             r"need up to 50\)"):
        tokens.reserve(50)  # 60 reserved in flight + 50 > 100
    tokens.settle(60, 30)
    tokens.reserve(50)
    assert (tokens.calls, tokens.tokens, tokens.reserved) == (2, 30, 50)


def test_usage_snapshot_and_cost():
    usage = Usage(backend="gpt", model="m", type="openai",
                  prices={"prompt": 0.4, "completion": 1.6})
    usage.add(calls=2, prompt_tokens=1_000_000, completion_tokens=500_000)
    snap = usage.snapshot()
    assert snap["cost_usd"] == pytest.approx(1.2)
    assert {k: snap[k] for k in ("calls", "cache_hits", "missing")} == {
        "calls": 2, "cache_hits": 0, "missing": 0}
    assert Usage(backend="b", model="m", type="vllm").snapshot()["cost_usd"] is None
    assert estimate_tokens([{"role": "user", "content": "x" * 40}]) == 14
