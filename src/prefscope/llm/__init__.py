"""LLM backends: one cached, budgeted, retried chat interface for every model a user has.

Config (``llm:``; schema: ``properties.llm`` of ``workflow/schemas/config.schema.yaml``) names
backends of three types:
``openai`` (any OpenAI-compatible endpoint: OpenAI, ``vllm serve``, Ollama; key read from
the environment variable ``api_key_env`` at call time, never stored), ``vllm`` (offline
engine, optional extra ``prefscope[vllm]``, imported lazily) and ``transformers`` (local
causal LM). The offline ``lexical`` backends live with their stages, not here.

Interface for stages::

    chat = backend_from_config("gpt", config["llm"], cache_path=...)
    text = chat.complete([{"role": "user", "content": "..."}], temperature=0.0)
    values = chat.complete_many(conversations, parse=parser)  # concurrent; None = missing
    chat.usage()  # {"backend", "type", "model", "calls", "retries", "cache_hits",
                  #  "cache_misses", "prompt_tokens", "completion_tokens", "malformed",
                  #  "missing", "cost_usd"}

Every call goes through the SQLite cache (:mod:`.cache`; key = sha256 of backend type,
model, endpoint, messages and sampling parameters), the per-run budget (:mod:`.budget`;
:class:`prefscope.errors.BudgetExceeded` when ``max_calls``/``max_tokens`` would be
exceeded; cache hits are free), retries with backoff and jitter on 429/5xx/timeouts/
connection errors (:mod:`.retry`), and strict answer parsing (:mod:`.parse`; a malformed
answer is shown to the model with the reason and asked again, never cached).

Branch W: :func:`make_feature_backend` returns a :class:`FeatureBackend` with
``describe(examples, seed=)``, ``annotate(pairs, concepts)``, ``short_label(description)``
and ``usage()``. Branch L: :func:`explain_tokens`, :func:`simulate`,
:func:`simulation_score` and :func:`relevance` (Bills et al. token explanations).

Importing this package imports neither ``openai``, ``torch`` nor ``vllm``.
"""

from prefscope.llm.chat import ChatBackend, Completion
from prefscope.llm.config import BackendConfig, LLMConfig, parse_llm_config
from prefscope.llm.errors import LLMCallError, MalformedAnswer
from prefscope.llm.factory import backend_from_config, make_feature_backend
from prefscope.llm.feature import FeatureBackend
from prefscope.llm.tokens import explain_tokens, relevance, simulate, simulation_score

__all__ = [
    "BackendConfig",
    "ChatBackend",
    "Completion",
    "FeatureBackend",
    "LLMCallError",
    "LLMConfig",
    "MalformedAnswer",
    "backend_from_config",
    "explain_tokens",
    "make_feature_backend",
    "parse_llm_config",
    "relevance",
    "simulate",
    "simulation_score",
]
