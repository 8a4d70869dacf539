"""Errors raised by LLM calls (budget overruns use :class:`prefscope.errors.BudgetExceeded`)."""

from __future__ import annotations


class LLMCallError(RuntimeError):
    """A call failed for good: a non-retryable error, or retries ran out.

    Messages are built by us from the status and the server's text with any API key
    removed, and raised ``from None`` so no client exception (and none of its request
    headers) is chained into tracebacks that land in logs.
    """


class MalformedAnswer(ValueError):
    """An answer does not follow the requested format; the reason goes back to the model."""


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``."""
    if secret:
        text = text.replace(secret, "***")
    return text
