"""Embed texts through the cache: each distinct text is encoded at most once per model."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prefscope.embed.cache import EmbeddingCache, text_key
from prefscope.embed.model import ResolvedModel

log = logging.getLogger("prefscope.embed")


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


def embed_texts(
    texts: Sequence[str],
    model: ResolvedModel,
    cache: EmbeddingCache,
    *,
    batch_size: int = 64,
    device: str | None = None,
    encoder: object | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, EmbedStats]:
    """Return float32 vectors for ``texts`` (row-aligned), embedding only cache misses.

    The encoder is loaded lazily: a fully cached rerun never imports sentence-transformers.
    """
    keys = [text_key(t) for t in texts]
    distinct = dict(zip(keys, texts, strict=True))
    found = cache.get(model.identity, list(distinct))
    missing = [k for k in distinct if k not in found]
    stats = EmbedStats(len(texts), len(distinct), len(found), len(missing))
    log.info(
        "%d texts, %d distinct: %d cached, %d to embed with %s",
        stats.n_texts, stats.n_distinct, stats.n_cached, stats.n_embedded, model.identity,
    )
    if missing:
        encoder = encoder or load_sentence_transformer(model, device)
        # Longest first: batches of similar length waste less padding.
        order = sorted(missing, key=lambda k: len(distinct[k]), reverse=True)
        vectors = encoder.encode(  # type: ignore[attr-defined]
            [distinct[k] for k in order],
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
        ).astype(np.float32)
        cache.put(model.identity, zip(order, vectors, strict=True))
        found.update(zip(order, vectors, strict=True))
    if not keys:
        return np.zeros((0, 0), np.float32), stats
    return np.stack([found[k] for k in keys]).astype(np.float32, copy=False), stats
