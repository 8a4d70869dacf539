"""Per-run limits on calls and tokens, and the usage record every stage reports.

A call is admitted only if it fits: ``calls + 1 <= max_calls`` and ``tokens used + tokens
reserved by calls in flight + this call's worst case (estimated prompt tokens +
max_completion_tokens) <= max_tokens``. Reserving the worst case keeps concurrent threads
from overshooting together; the reservation is settled with the real count afterwards.
Cached answers never reach the budget.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from prefscope.errors import BudgetExceeded


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """A rough prompt size (4 characters per token, plus per-message overhead)."""
    return sum(len(m["content"]) // 4 + 4 for m in messages)


@dataclass
class Usage:
    """Counters of one backend; ``snapshot()`` is what stages write to their JSON."""

    backend: str
    model: str
    type: str
    prices: dict[str, float] | None = None
    calls: int = 0  # answered requests (billed)
    retries: int = 0  # transient failures that were retried
    cache_hits: int = 0
    cache_misses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    malformed: int = 0  # answers that failed validation (asked again)
    missing: int = 0  # requests still malformed after every retry
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + int(value))

    def cost_usd(self) -> float | None:
        """Estimated from ``price_per_million``; None when no prices are configured."""
        if not self.prices:
            return None
        return (self.prompt_tokens * float(self.prices.get("prompt", 0.0))
                + self.completion_tokens * float(self.prices.get("completion", 0.0))) / 1e6

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out = {
                "backend": self.backend, "type": self.type, "model": self.model,
                "calls": self.calls, "retries": self.retries,
                "cache_hits": self.cache_hits, "cache_misses": self.cache_misses,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "malformed": self.malformed, "missing": self.missing,
            }
        cost = self.cost_usd()
        out["cost_usd"] = None if cost is None else round(cost, 6)
        return out


class Budget:
    """Thread-safe admission control for calls and tokens."""

    def __init__(self, max_calls: int | None, max_tokens: int | None, *, owner: str = "llm"):
        self.max_calls, self.max_tokens, self.owner = max_calls, max_tokens, owner
        self.calls = 0
        self.tokens = 0
        self.reserved = 0
        self._lock = threading.Lock()

    def reserve(self, tokens: int) -> None:
        """Admit one call expected to use at most ``tokens`` tokens, or raise."""
        with self._lock:
            if self.max_calls is not None and self.calls + 1 > self.max_calls:
                raise BudgetExceeded(
                    f"LLM backend {self.owner!r} reached llm.max_calls = {self.max_calls} "
                    "in this run. Answers so far are cached; raise llm.max_calls (or set it "
                    "to null for no limit) and run again to continue."
                )
            if (self.max_tokens is not None
                    and self.tokens + self.reserved + tokens > self.max_tokens):
                raise BudgetExceeded(
                    f"LLM backend {self.owner!r} would exceed llm.max_tokens = "
                    f"{self.max_tokens} (used {self.tokens}, this call may need up to "
                    f"{tokens}). Answers so far are cached; raise llm.max_tokens (or set it "
                    "to null) and run again to continue."
                )
            self.calls += 1
            self.reserved += tokens

    def settle(self, reserved: int, used: int) -> None:
        """Replace a call's reservation by what it really used."""
        with self._lock:
            self.reserved -= reserved
            self.tokens += used

    def release(self, reserved: int) -> None:
        """A call that failed without an answer gives its reservation back."""
        with self._lock:
            self.reserved -= reserved
            self.calls -= 1
