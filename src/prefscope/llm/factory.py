"""Build backends from the ``llm:`` config section."""

from __future__ import annotations

from typing import Any

from prefscope.errors import InputError
from prefscope.llm.backends import build
from prefscope.llm.budget import Budget
from prefscope.llm.cache import CallCache
from prefscope.llm.chat import ChatBackend
from prefscope.llm.config import parse_llm_config
from prefscope.llm.feature import FeatureBackend


def backend_from_config(
    name: str, llm_config: dict[str, Any] | None, cache_path: str | None = None
) -> ChatBackend:
    """The chat backend ``llm.backends[name]`` with its cache and a fresh per-run budget.

    ``cache_path`` (the rule's param) overrides ``llm.cache``; with neither, answers are
    not cached. Nothing is loaded and no key is read until the first uncached call.
    """
    if name == "lexical":
        raise InputError(
            "'lexical' is the offline backend of prefscope.interpret / "
            "prefscope.lfp, not an LLM backend",
            column="backend",
        )
    cfg = parse_llm_config(llm_config)
    backend_cfg = cfg.backend(name)
    path = cache_path if cache_path is not None else cfg.cache
    cache = CallCache(path) if path else None
    budget = Budget(cfg.max_calls, cfg.max_tokens, owner=name)
    return build(backend_cfg, cache=cache, budget=budget)


def make_feature_backend(
    name: str, llm_config: dict[str, Any] | None, cache_path: str | None = None
) -> FeatureBackend:
    """A Describer + Annotator (branch W) over the chat backend ``name``."""
    return FeatureBackend(backend_from_config(name, llm_config, cache_path=cache_path))
