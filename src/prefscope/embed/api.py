"""Embeddings from any OpenAI-compatible ``/embeddings`` endpoint (``embed.model: openai:<m>``).

OpenAI itself, ``vllm serve``, Hugging Face TEI, Ollama and LiteLLM all speak this protocol.
Texts go out in batches (``batch_size`` inputs per request, ``concurrency`` requests in
flight) through the LLM layer's machinery: one client and error translation
(:class:`prefscope.llm.backends.openai.OpenAIEndpoint`: key read from the environment at
call time, redacted from every message), retries with backoff and jitter
(:mod:`prefscope.llm.retry`) and a per-run budget (:mod:`prefscope.llm.budget`).

An answer is checked before anything is kept: one finite vector per input, indices
0..n-1, every vector of one length (``dimensions`` when set). A bad answer is retried like a
transient error and, if it stays bad, fails the run with a message; it is never cached.
Finished batches are handed to the caller (which caches them) as they arrive, so an
interrupted run keeps what it paid for and a re-run asks only for what is missing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from prefscope.errors import InputError
from prefscope.llm.backends.openai import OpenAIEndpoint
from prefscope.llm.budget import Budget, Usage
from prefscope.llm.errors import LLMCallError
from prefscope.llm.retry import RetryPolicy, TransientError, with_retries

log = logging.getLogger("prefscope.embed")

OPENAI_URL = "https://api.openai.com/v1"
StoreBatch = Callable[[list[int], np.ndarray], None]


@dataclass(frozen=True)
class APISettings:
    """What :class:`APIEmbedder` needs; the names are the ``embed:`` config keys."""

    model: str  # as the server knows it (the part after "openai:")
    base_url: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"
    dimensions: int | None = None
    batch_size: int = 128
    concurrency: int = 8
    timeout: float = 60.0
    max_retries: int = 5
    retry_base_delay: float = 1.0
    retry_max_delay: float = 60.0
    max_requests: int | None = None
    max_tokens: int | None = 200_000_000
    price_per_million: float | None = None  # USD per million input tokens

    @property
    def endpoint(self) -> str:
        return (self.base_url or OPENAI_URL).rstrip("/")

    @property
    def identity(self) -> str:
        """The cache's model key: endpoint, model and dimensions (never the key)."""
        return f"openai:{self.model}@{self.endpoint}#dim={self.dimensions or 'native'}"


def estimate_tokens(texts: Sequence[str]) -> int:
    """A rough upper bound for the budget before the server reports the real count."""
    return sum(len(t) // 3 + 1 for t in texts)


class APIEmbedder:
    """Batched, concurrent, retried and budgeted calls to ``POST {base_url}/embeddings``."""

    def __init__(
        self,
        settings: APISettings,
        *,
        budget: Budget | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if settings.batch_size < 1 or settings.concurrency < 1:
            raise InputError("batch_size and concurrency must be >= 1", column="embed")
        self.settings = settings
        self.endpoint = OpenAIEndpoint(
            base_url=settings.base_url,
            api_key_env=settings.api_key_env,
            timeout=settings.timeout,
            setting="embed",
        )
        self.policy = RetryPolicy(
            settings.max_retries, settings.retry_base_delay, settings.retry_max_delay
        )
        self.budget = budget or Budget(
            settings.max_requests, settings.max_tokens, owner=f"embed ({settings.model})"
        )
        prices = (
            None if settings.price_per_million is None else {"prompt": settings.price_per_million}
        )
        self._usage = Usage(backend="embed", model=settings.model, type="openai", prices=prices)
        self._rng = random.Random()
        self._sleep = sleep
        self.dim: int | None = settings.dimensions

    @property
    def identity(self) -> str:
        return self.settings.identity

    # ------------------------------------------------------------------ one request
    def request(self, texts: Sequence[str]) -> dict[str, Any]:
        """Keyword arguments of ``client.embeddings.create`` (no secret in here)."""
        args: dict[str, Any] = {
            "model": self.settings.model,
            "input": list(texts),
            "encoding_format": "float",
        }
        if self.settings.dimensions is not None:
            args["dimensions"] = self.settings.dimensions
        return args

    def _check(self, response: Any, n: int) -> tuple[np.ndarray, int]:
        """(vectors in input order, prompt tokens), or TransientError naming the defect."""
        where = f"embeddings from {self.endpoint.where}"
        data = list(getattr(response, "data", None) or [])
        if len(data) != n:
            raise TransientError(f"{where}: {len(data)} vectors for {n} inputs")
        index = sorted(range(n), key=lambda i: int(getattr(data[i], "index", i)))
        if [int(getattr(data[i], "index", i)) for i in index] != list(range(n)):
            raise TransientError(f"{where}: indices are not 0..{n - 1}")
        rows = [data[i].embedding for i in index]
        lengths = {len(r) for r in rows}
        expected = self.dim
        if len(lengths) != 1 or (expected is not None and lengths != {expected}):
            got = ", ".join(str(x) for x in sorted(lengths))
            want = f" (expected {expected})" if expected is not None else ""
            raise TransientError(f"{where}: vector length {got}{want}")
        vectors = np.asarray(rows, dtype=np.float32)
        if not np.isfinite(vectors).all():
            raise TransientError(f"{where}: non-finite values")
        usage = getattr(response, "usage", None)
        tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        return vectors, tokens

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """One batch: admitted by the budget, retried, checked; raises LLMCallError at the end."""
        args = self.request(texts)
        reserve = estimate_tokens(texts)
        self.budget.reserve(reserve)

        def attempt() -> tuple[np.ndarray, int]:
            response = self.endpoint.call(
                lambda c: c.embeddings.create(**args), f"embed ({self.settings.model})"
            )
            return self._check(response, len(texts))

        try:
            kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
            (vectors, tokens), _ = with_retries(
                attempt,
                self.policy,
                on_retry=lambda _e: self._usage.add(retries=1),
                rng=self._rng,
                **kwargs,
            )
        except TransientError as err:
            self.budget.release(reserve)
            raise LLMCallError(
                f"embedding model {self.settings.model!r}: giving up after "
                f"{self.policy.max_retries} retries: {err}. Raise embed.max_retries or "
                "embed.timeout, or check the server."
            ) from None
        except BaseException:
            self.budget.release(reserve)
            raise
        if tokens == 0:  # servers that report no usage: count words, not nothing
            tokens = sum(len(t.split()) for t in texts)
        self.budget.settle(reserve, tokens)
        self._usage.add(calls=1, prompt_tokens=tokens)
        if self.dim is None:
            self.dim = int(vectors.shape[1])
        return vectors

    # ------------------------------------------------------------------ many
    def encode(self, texts: Sequence[str], store: StoreBatch, *, progress: bool = True) -> None:
        """Embed ``texts``; ``store(positions, vectors)`` runs in this thread per batch.

        On the first failure no new batch starts; batches already in flight finish and are
        stored, then the error propagates.
        """
        size = self.settings.batch_size
        batches = [list(range(s, min(s + size, len(texts)))) for s in range(0, len(texts), size)]
        if not batches:
            return
        bar = tqdm(total=len(texts), disable=not progress, desc="embed", unit="text")
        if self.dim is None:  # the first answer fixes the length every later one must have
            store(batches[0], self.embed_batch([texts[i] for i in batches[0]]))
            bar.update(len(batches[0]))
            batches = batches[1:]
        error: BaseException | None = None
        with ThreadPoolExecutor(
            max_workers=self.settings.concurrency, thread_name_prefix="embed"
        ) as pool:
            todo = iter(batches)
            running: dict[Future, list[int]] = {}

            def submit() -> None:
                for batch in todo:
                    running[pool.submit(self.embed_batch, [texts[i] for i in batch])] = batch
                    return

            for _ in range(self.settings.concurrency):
                submit()
            while running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    batch = running.pop(future)
                    if future.exception() is not None:
                        error = error or future.exception()
                        continue
                    store(batch, future.result())
                    bar.update(len(batch))
                    if error is None:
                        submit()
        bar.close()
        if error is not None:
            raise error

    def usage(self) -> dict[str, Any]:
        """requests (``calls``), retries, tokens and estimated cost of this run."""
        snapshot = self._usage.snapshot()
        cost = self._usage.cost_usd()  # embeddings are cheap: keep nano-dollars
        snapshot["cost_usd"] = None if cost is None else round(cost, 9)
        return snapshot
