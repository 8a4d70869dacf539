"""The ``llm:`` config section as dataclasses, checked once with errors that name the key.

The section is plain JSON-like data (it travels through Snakemake ``params``); it names the
environment variable that holds an API key, never the key itself, so configs, params and
Snakemake metadata stay free of secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from prefscope.errors import InputError

BACKEND_TYPES = ("openai", "vllm", "transformers")
TOKEN_PARAMS = ("max_completion_tokens", "max_tokens")


@dataclass(frozen=True)
class BackendConfig:
    """One named backend under ``llm.backends``.

    ``openai`` reaches any OpenAI-compatible chat-completions endpoint (OpenAI, ``vllm
    serve``, Ollama, ...); ``vllm`` runs an offline engine in-process (GPU rules only);
    ``transformers`` runs a local causal LM (CPU-capable for small models).
    """

    name: str
    type: str
    model: str
    # --- openai ---
    base_url: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"  # null: endpoint needs no key (local server)
    timeout: float = 60.0
    token_param: str = "max_completion_tokens"  # some servers only accept "max_tokens"
    extra_body: dict[str, Any] = field(default_factory=dict)  # sent as-is; part of cache key
    price_per_million: dict[str, float] | None = None  # {"prompt": ..., "completion": ...}
    # --- every type ---
    concurrency: int = 4
    max_retries: int = 5
    retry_base_delay: float = 1.0
    retry_max_delay: float = 60.0
    malformed_retries: int = 2
    temperature: float | None = 0.0  # null: not sent (models that only allow the default)
    max_completion_tokens: int = 512
    # --- vllm / transformers ---
    device: str | None = None
    dtype: str = "auto"
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    trust_remote_code: bool = False

    @property
    def endpoint(self) -> str | None:
        """What identifies the server in cache keys (None for in-process engines)."""
        return self.base_url if self.type == "openai" else None


@dataclass(frozen=True)
class LLMConfig:
    """The whole ``llm:`` section. Defaults are the config schema's (pinned by
    tests/unit/test_config_defaults.py); they apply where no config is given."""

    cache: str | None = "results/cache/llm.sqlite"  # null: no persistent cache
    max_calls: int | None = 20000  # per backend per stage run; null = unlimited
    max_tokens: int | None = 20_000_000  # prompt + completion, per backend per stage run
    backends: dict[str, BackendConfig] = field(default_factory=dict)

    def backend(self, name: str) -> BackendConfig:
        if name not in self.backends:
            known = ", ".join(sorted(self.backends)) or "none"
            raise InputError(
                f"no LLM backend named {name!r} (defined in llm.backends: {known}); "
                "add it there or use 'lexical'",
                column=f"llm.backends.{name}",
            )
        return self.backends[name]


def _check_keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InputError(
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
            column=where,
        )


def _positive(value: Any, where: str, *, allow_none: bool = False, integer: bool = True) -> Any:
    if value is None and allow_none:
        return None
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise InputError(
            f"must be a positive {'integer' if integer else 'number'}, got {value!r}", column=where
        )
    return value


def parse_backend(name: str, raw: dict[str, Any]) -> BackendConfig:
    """Check one backend entry and fill defaults."""
    where = f"llm.backends.{name}"
    if not isinstance(raw, dict):
        raise InputError("must be a mapping", column=where)
    _check_keys(raw, {f.name for f in fields(BackendConfig)} - {"name"}, where)
    if raw.get("type") not in BACKEND_TYPES:
        raise InputError(
            f"type must be one of {', '.join(BACKEND_TYPES)}, got {raw.get('type')!r}",
            column=f"{where}.type",
        )
    if not isinstance(raw.get("model"), str) or not raw["model"]:
        raise InputError("model (a model id or local path) is required", column=f"{where}.model")
    cfg = BackendConfig(name=name, **raw)
    for key in ("concurrency", "max_completion_tokens", "tensor_parallel_size"):
        _positive(getattr(cfg, key), f"{where}.{key}")
    for key in ("timeout", "retry_max_delay"):
        _positive(getattr(cfg, key), f"{where}.{key}", integer=False)
    for key in ("max_retries", "malformed_retries"):
        if not isinstance(getattr(cfg, key), int) or getattr(cfg, key) < 0:
            raise InputError("must be an integer >= 0", column=f"{where}.{key}")
    if cfg.token_param not in TOKEN_PARAMS:
        raise InputError(f"must be one of {', '.join(TOKEN_PARAMS)}", column=f"{where}.token_param")
    if cfg.price_per_million is not None:
        _check_keys(cfg.price_per_million, {"prompt", "completion"}, f"{where}.price_per_million")
    return cfg


def parse_llm_config(raw: dict[str, Any] | None) -> LLMConfig:
    """The ``llm:`` mapping (possibly empty) as an :class:`LLMConfig`."""
    raw = dict(raw or {})
    _check_keys(raw, {f.name for f in fields(LLMConfig)}, "llm")
    backends = raw.pop("backends", None) or {}
    if not isinstance(backends, dict):
        raise InputError("must be a mapping of name -> backend settings", column="llm.backends")
    if "lexical" in backends:
        raise InputError(
            "'lexical' is the built-in offline backend; pick another name",
            column="llm.backends.lexical",
        )
    for key in ("max_calls", "max_tokens"):
        if key in raw:
            _positive(raw[key], f"llm.{key}", allow_none=True)
    return LLMConfig(**raw, backends={name: parse_backend(name, b) for name, b in backends.items()})
