"""Retries with exponential backoff and full jitter.

Transient failures (429, 5xx, timeouts, dropped connections) are retried after a delay drawn
uniformly from ``[0, min(max_delay, base_delay * 2**attempt)]``: jitter spreads the retries
of many threads so they do not hit a rate-limited server in lockstep. A server's
``Retry-After`` hint, when given, is a lower bound on the delay. Anything else fails at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger("prefscope.llm")

T = TypeVar("T")


class TransientError(Exception):
    """Raised by a backend's single attempt when the same request may succeed later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
        cap = min(self.max_delay, self.base_delay * (2.0**attempt))
        wait = rng.uniform(0.0, cap)
        if retry_after is not None:
            wait = max(wait, min(float(retry_after), self.max_delay))
        return wait


def with_retries(
    attempt_once: Callable[[], T],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[TransientError], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> tuple[T, int]:
    """Run ``attempt_once`` until it succeeds; return (result, number of retries).

    Only :class:`TransientError` is retried; after ``policy.max_retries`` retries the last
    one propagates for the caller to turn into a clear error.
    """
    rng = rng or random.Random()
    for attempt in range(policy.max_retries + 1):
        try:
            return attempt_once(), attempt
        except TransientError as err:
            if attempt == policy.max_retries:
                raise
            wait = policy.delay(attempt, rng, err.retry_after)
            log.warning("transient LLM error (%s); retry %d/%d in %.2fs",
                        err, attempt + 1, policy.max_retries, wait)
            if on_retry is not None:
                on_retry(err)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
