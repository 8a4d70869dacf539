"""Response embeddings with a persistent, model-keyed cache (branch W)."""

from prefscope.embed.cache import EmbeddingCache
from prefscope.embed.model import ResolvedModel, resolve_model

__all__ = ["EmbeddingCache", "ResolvedModel", "resolve_model"]
