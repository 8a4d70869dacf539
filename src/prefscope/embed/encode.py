"""Embed texts through the cache: each distinct text is encoded at most once per model.

Three kinds of embedder share one small interface (``identity`` keys the cache;
``encode(texts, store)`` hands back vectors batch by batch): local sentence-transformers
(:class:`STEmbedder`), any OpenAI-compatible endpoint (:class:`prefscope.embed.api.APIEmbedder`)
and an offline vLLM engine (:class:`prefscope.embed.vllm.VLLMEmbedder`). Each batch is cached
as soon as it arrives, so an interrupted run loses at most the batches in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from prefscope.embed.cache import EmbeddingCache, text_key
from prefscope.embed.model import ResolvedModel

log = logging.getLogger("prefscope.embed")

StoreBatch = Callable[[list[int], np.ndarray], None]


class Embedder(Protocol):
    identity: str

    def encode(self, texts: Sequence[str], store: StoreBatch, *, progress: bool = True) -> None: ...


@dataclass
class EmbedStats:
    n_texts: int = 0
    n_distinct: int = 0
    n_cached: int = 0
    n_embedded: int = 0


def load_sentence_transformer(model: ResolvedModel, device: str | None) -> object:
    import torch
    from sentence_transformers import SentenceTransformer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return SentenceTransformer(model.location, device=device, revision=model.revision)


class STEmbedder:
    """A local sentence-transformers model, loaded on first use (a cached re-run never does)."""

    chunk = 4096  # texts per cache write

    def __init__(
        self,
        model: ResolvedModel,
        *,
        batch_size: int = 64,
        device: str | None = None,
        encoder: Any = None,
    ) -> None:
        self.model = model
        self.identity = model.identity
        self.batch_size = batch_size
        self.device = device
        self._encoder = encoder

    def encode(self, texts: Sequence[str], store: StoreBatch, *, progress: bool = True) -> None:
        encoder = self._encoder or load_sentence_transformer(self.model, self.device)
        self._encoder = encoder
        for start in range(0, len(texts), self.chunk):
            positions = list(range(start, min(start + self.chunk, len(texts))))
            vectors = encoder.encode(
                [texts[i] for i in positions],
                batch_size=self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
            )
            store(positions, np.asarray(vectors, dtype=np.float32))


def embed_texts(
    texts: Sequence[str],
    embedder: Embedder,
    cache: EmbeddingCache,
    *,
    progress: bool = True,
) -> tuple[np.ndarray, EmbedStats]:
    """Return float32 vectors for ``texts`` (row-aligned), embedding only cache misses."""
    keys = [text_key(t) for t in texts]
    distinct = dict(zip(keys, texts, strict=True))
    found = cache.get(embedder.identity, list(distinct))
    missing = [k for k in distinct if k not in found]
    stats = EmbedStats(len(texts), len(distinct), len(found), len(missing))
    log.info(
        "%d texts, %d distinct: %d cached, %d to embed with %s",
        stats.n_texts,
        stats.n_distinct,
        stats.n_cached,
        stats.n_embedded,
        embedder.identity,
    )
    if missing:
        # Longest first: batches of similar length waste less padding.
        order = sorted(missing, key=lambda k: len(distinct[k]), reverse=True)

        def store(positions: list[int], vectors: np.ndarray) -> None:
            batch = [order[i] for i in positions]
            cache.put(embedder.identity, zip(batch, vectors, strict=True))
            found.update(zip(batch, vectors, strict=True))

        embedder.encode([distinct[k] for k in order], store, progress=progress)
    if not keys:
        return np.zeros((0, 0), np.float32), stats
    return np.stack([found[k] for k in keys]).astype(np.float32, copy=False), stats
