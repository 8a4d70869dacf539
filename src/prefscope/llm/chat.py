"""The chat backend every LLM type implements: cached, budgeted, validated completions.

A subclass only implements one raw call (``_generate``) and may override ``_generate_many``
to batch (offline engines). Everything else lives here, once:

1. look the request up in the cache (a hit costs nothing and never touches the budget);
2. admit the call against the budget, call, count tokens;
3. validate the answer with the caller's ``parse``; a malformed answer is not cached, the
   model is shown its answer and the reason and asked again (``malformed_retries`` times),
   then the request is reported missing (``None``);
4. store the valid answer under the key of the *original* request, so a rerun is served
   entirely from the cache.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from prefscope.llm.budget import Budget, Usage, estimate_tokens
from prefscope.llm.cache import CallCache, cache_key
from prefscope.llm.config import BackendConfig
from prefscope.llm.errors import MalformedAnswer

log = logging.getLogger("prefscope.llm")

Messages = list[dict[str, str]]
Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int


def _identity(text: str) -> str:
    return text


def repair_messages(messages: Messages, answer: str, reason: str) -> Messages:
    """The conversation extended by the bad answer and what was wrong with it."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": (
            f"That answer could not be used: {reason}. "
            "Answer again, following the required format exactly and adding nothing else."
        )},
    ]


class ChatBackend:
    """Base class: ``complete`` / ``complete_many`` plus ``usage``.

    Sampling parameters passed as keyword arguments (``temperature``, ``seed``,
    ``max_completion_tokens``, ...) override the configured defaults and are part of the
    cache key.
    """

    def __init__(
        self, config: BackendConfig, *, cache: CallCache | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.model = config.model
        self.cache = cache
        self.budget = budget or Budget(None, None, owner=config.name)
        self._usage = Usage(backend=config.name, model=config.model, type=config.type,
                            prices=config.price_per_million)

    # ------------------------------------------------------------------ subclass hooks
    def _generate(self, messages: Messages, sampling: dict[str, Any]) -> Completion:
        """One raw call (with the backend's own transport retries)."""
        raise NotImplementedError

    def _generate_many(
        self, conversations: Sequence[Messages], sampling: dict[str, Any],
        on_done: Callable[[int, Completion], None],
    ) -> None:
        """Answer every conversation, calling ``on_done(i, completion)`` as each finishes.

        Default: ``config.concurrency`` threads over :meth:`_admitted`. On the first error
        the calls not yet started are cancelled and the error propagates; answers already
        delivered have been handled (cached) by ``on_done``.
        """
        if not conversations:
            return
        workers = min(self.config.concurrency, len(conversations))
        if workers == 1:
            for i, conv in enumerate(conversations):
                on_done(i, self._admitted(conv, sampling))
            return

        def run(i: int) -> None:
            on_done(i, self._admitted(conversations[i], sampling))

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm") as pool:
            futures = [pool.submit(run, i) for i in range(len(conversations))]
            _, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for f in pending:
                f.cancel()
            for f in futures:
                if f.done() and not f.cancelled() and f.exception() is not None:
                    raise f.exception()  # type: ignore[misc]

    # ------------------------------------------------------------------ machinery
    def sampling(self, **overrides: Any) -> dict[str, Any]:
        """Configured sampling defaults with ``overrides``; ``None`` values are dropped."""
        base = {"temperature": self.config.temperature,
                "max_completion_tokens": self.config.max_completion_tokens}
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def _key(self, messages: Messages, sampling: dict[str, Any]) -> str:
        extra = {"extra_body": self.config.extra_body} if self.config.extra_body else {}
        return cache_key(self.config.type, self.model, self.config.endpoint, messages,
                         {**sampling, **extra})

    def _admitted(self, messages: Messages, sampling: dict[str, Any]) -> Completion:
        """One call under the budget, with usage recorded."""
        reserve = estimate_tokens(messages) + int(sampling.get("max_completion_tokens", 0))
        self.budget.reserve(reserve)
        try:
            out = self._generate(messages, sampling)
        except BaseException:
            self.budget.release(reserve)
            raise
        self.budget.settle(reserve, out.prompt_tokens + out.completion_tokens)
        self._usage.add(calls=1, prompt_tokens=out.prompt_tokens,
                        completion_tokens=out.completion_tokens)
        return out

    def complete(self, messages: Messages, **sampling: Any) -> str:
        """One answer (cached); raises on transport failure or budget exhaustion."""
        return self.complete_many([messages], **sampling)[0]

    def complete_many(
        self, conversations: Sequence[Messages], *,
        parse: Parser | Sequence[Parser] | None = None, **sampling: Any,
    ) -> list[Any]:
        """Answers to many conversations, in order, concurrently.

        With ``parse`` (one parser, or one per conversation), each answer is validated and
        returned parsed; an answer that stays malformed after ``malformed_retries`` repairs
        comes back as ``None`` (and counts as missing). Identical requests are sent once.
        """
        params = self.sampling(**sampling)
        parsers = (list(parse) if isinstance(parse, Sequence)
                   else [parse or _identity] * len(conversations))
        if len(parsers) != len(conversations):
            raise ValueError(f"{len(parsers)} parsers for {len(conversations)} conversations")
        keys = [self._key(list(c), params) for c in conversations]
        results: list[Any] = [None] * len(conversations)
        todo: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            if key in todo:
                todo[key].append(i)
                continue
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None:
                try:
                    results[i] = parsers[i](hit.response)
                    self._usage.add(cache_hits=1)
                    continue
                except MalformedAnswer:  # stored without this parser: ask again
                    pass
            self._usage.add(cache_misses=1)
            todo[key] = [i]
        pending = {key: list(conversations[idx[0]]) for key, idx in todo.items()}
        self._resolve(pending, todo, results, params, parsers)
        return results

    def _resolve(
        self, pending: dict[str, Messages], where: dict[str, list[int]], results: list[Any],
        params: dict[str, Any], parsers: list[Parser],
    ) -> None:
        """Call for every pending key; repair malformed answers; record what is missing."""
        for _ in range(self.config.malformed_retries + 1):
            if not pending:
                return
            pending = self._round(pending, where, results, params, parsers)
        if pending:
            self._usage.add(missing=len(pending))
            log.warning("%s: %d answer(s) still malformed after %d retries; counted missing",
                        self.name, len(pending), self.config.malformed_retries)

    def _round(
        self, pending: dict[str, Messages], where: dict[str, list[int]], results: list[Any],
        params: dict[str, Any], parsers: list[Parser],
    ) -> dict[str, Messages]:
        """One pass over ``pending``; returns the repair conversations of malformed answers."""
        order = list(pending)
        retry: dict[str, Messages] = {}
        lock = threading.Lock()

        def on_done(i: int, out: Completion) -> None:
            key = order[i]
            try:
                value = parsers[where[key][0]](out.text)
            except MalformedAnswer as err:
                self._usage.add(malformed=1)
                log.debug("malformed answer from %s (%s)", self.name, err)
                with lock:
                    retry[key] = repair_messages(pending[key], out.text, str(err))
                return
            if self.cache is not None:
                self.cache.put(key, backend=self.config.type, model=self.model,
                               response=out.text, prompt_tokens=out.prompt_tokens,
                               completion_tokens=out.completion_tokens)
            for j in where[key]:
                results[j] = value

        self._generate_many([pending[k] for k in order], params, on_done)
        return retry

    def usage(self) -> dict[str, Any]:
        """Counters for this run: calls, hits/misses, tokens, estimated cost, missing."""
        return self._usage.snapshot()
