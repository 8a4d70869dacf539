"""Chat backend implementations, one module per type (imported only when chosen)."""

from __future__ import annotations

import importlib

from prefscope.llm.budget import Budget
from prefscope.llm.cache import CallCache
from prefscope.llm.chat import ChatBackend
from prefscope.llm.config import BackendConfig

_CLASSES = {
    "openai": ("prefscope.llm.backends.openai", "OpenAIBackend"),
    "vllm": ("prefscope.llm.backends.vllm", "VLLMBackend"),
    "transformers": ("prefscope.llm.backends.transformers", "TransformersBackend"),
}


def build(config: BackendConfig, *, cache: CallCache | None, budget: Budget) -> ChatBackend:
    """Instantiate the class for ``config.type`` (no model is loaded, no request is sent)."""
    module, cls = _CLASSES[config.type]
    return getattr(importlib.import_module(module), cls)(config, cache=cache, budget=budget)
