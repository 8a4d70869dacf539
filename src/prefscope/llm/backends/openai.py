"""Any OpenAI-compatible chat-completions endpoint, through the official ``openai`` client.

The client's own retries are switched off (``max_retries=0``) so that retries, backoff and
their accounting happen once, in :mod:`prefscope.llm.retry`. The key is read from the
environment variable named by ``api_key_env`` when the first call is made and lives only in
the client object; errors are re-raised with the key redacted and without chaining the
client's exception.

:class:`OpenAIEndpoint` (client, key, error translation) is shared with the embeddings
client of branch W (:mod:`prefscope.embed.api`), so both speak to a server the same way.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from prefscope.errors import InputError
from prefscope.llm.budget import Budget
from prefscope.llm.cache import CallCache
from prefscope.llm.chat import ChatBackend, Completion, Messages
from prefscope.llm.config import BackendConfig
from prefscope.llm.errors import LLMCallError, redact
from prefscope.llm.retry import RetryPolicy, TransientError, with_retries

NO_KEY = "not-needed"  # placeholder for servers without authentication (vllm serve, Ollama)

T = TypeVar("T")


def _retry_after(err: Any) -> float | None:
    response = getattr(err, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class OpenAIEndpoint:
    """One OpenAI-compatible server: a lazily built, thread-safe client and error mapping.

    ``setting`` names the config block in messages (e.g. ``llm.backends.gpt`` or ``embed``).
    """

    def __init__(
        self, *, base_url: str | None, api_key_env: str | None, timeout: float, setting: str
    ) -> None:
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.setting = setting
        self._client: Any = None
        self._secret: str | None = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return self.base_url or "api.openai.com"

    def _api_key(self) -> str:
        env = self.api_key_env
        if env is None:
            return NO_KEY
        value = os.environ.get(env)
        if not value:
            raise InputError(
                f"environment variable {env} is not set; export it with your API key, or set "
                f"api_key_env: null for an endpoint that needs no key",
                column=f"{self.setting}.api_key_env",
            )
        return value

    def client(self) -> Any:
        """The shared (thread-safe) client, created on first use."""
        with self._lock:
            if self._client is None:
                import openai

                self._secret = self._api_key()
                self._client = openai.OpenAI(
                    api_key=self._secret,
                    base_url=self.base_url,
                    timeout=self.timeout,
                    max_retries=0,
                )
            return self._client

    def redact(self, text: str) -> str:
        return redact(text, self._secret)

    def call(self, request: Callable[[Any], T], label: str) -> T:
        """``request(client)`` once; transient failures raise :class:`TransientError`,
        others :class:`LLMCallError`, all with the key redacted and nothing chained."""
        import openai

        where = f"{label} ({self.where})"
        client = self.client()  # a missing key is the user's to fix, not a transient error
        try:
            return request(client)
        except openai.APITimeoutError:
            raise TransientError(f"timeout after {self.timeout}s at {where}") from None
        except openai.APIConnectionError:
            raise TransientError(f"cannot connect to {where}") from None
        except openai.APIStatusError as err:
            text = self.redact(str(getattr(err, "message", "") or err))
            if err.status_code == 429 or err.status_code >= 500:
                raise TransientError(
                    f"HTTP {err.status_code} from {where}: {text}", retry_after=_retry_after(err)
                ) from None
            hint = (
                " (check the key in the environment variable named by api_key_env)"
                if err.status_code in (401, 403)
                else ""
            )
            raise LLMCallError(f"HTTP {err.status_code} from {where}: {text}{hint}") from None
        except (openai.OpenAIError, ValueError) as err:  # a body that is not an answer
            raise TransientError(
                f"unusable response from {where}: {self.redact(str(err))}"
            ) from None


class OpenAIBackend(ChatBackend):
    """``type: openai`` — OpenAI, a ``vllm serve`` endpoint, Ollama, LiteLLM, ..."""

    def __init__(
        self,
        config: BackendConfig,
        *,
        cache: CallCache | None = None,
        budget: Budget | None = None,
    ) -> None:
        super().__init__(config, cache=cache, budget=budget)
        self.policy = RetryPolicy(
            config.max_retries, config.retry_base_delay, config.retry_max_delay
        )
        self.endpoint = OpenAIEndpoint(
            base_url=config.base_url,
            api_key_env=config.api_key_env,
            timeout=config.timeout,
            setting=f"llm.backends.{self.name}",
        )
        self._rng = random.Random()

    def client(self) -> Any:
        """The shared (thread-safe) client, created on first use."""
        return self.endpoint.client()

    def request(self, messages: Messages, sampling: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` (no secrets in here)."""
        args: dict[str, Any] = {"model": self.model, "messages": messages}
        for name, value in sampling.items():
            if name == "max_completion_tokens":
                name = self.config.token_param
            args[name] = value
        if self.config.extra_body:
            args["extra_body"] = dict(self.config.extra_body)
        return args

    def _attempt(self, args: dict[str, Any]) -> Completion:
        response = self.endpoint.call(lambda c: c.chat.completions.create(**args), self.name)
        if not response.choices:
            raise TransientError(
                f"response without choices from {self.name} ({self.endpoint.where})"
            )
        content = response.choices[0].message.content or ""
        usage = response.usage
        return Completion(
            text=content,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )

    def _generate(self, messages: Messages, sampling: dict[str, Any]) -> Completion:
        args = self.request(messages, sampling)
        try:
            out, _ = with_retries(
                lambda: self._attempt(args),
                self.policy,
                on_retry=lambda _err: self._usage.add(retries=1),
                rng=self._rng,
            )
        except TransientError as err:
            raise LLMCallError(
                f"LLM backend {self.name!r}: giving up after {self.policy.max_retries} "
                f"retries: {err}. Raise llm.backends.{self.name}.max_retries or timeout, "
                "or check the server."
            ) from None
        return out
