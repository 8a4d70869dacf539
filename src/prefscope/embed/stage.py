"""Workflow stage: embed both responses of every pair and write delta = e(A) - e(B)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from prefscope.embed.cache import EmbeddingCache
from prefscope.embed.encode import embed_texts
from prefscope.embed.model import resolve_model
from prefscope.io import save_npy, write_json


def truncate_words(text: str, max_words: int) -> str:
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words])


def texts_to_embed(pairs: pl.DataFrame, params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The exact strings embedded for A and B (truncated; with the prompt if instructed)."""
    max_words = int(params["max_words"])
    instruction = params.get("instruction")
    out: tuple[list[str], list[str]] = ([], [])
    for prompt, a, b in pairs.select("prompt", "response_A", "response_B").iter_rows():
        for side, response in zip(out, (a, b), strict=True):
            response = truncate_words(response, max_words)
            if instruction:
                prompt_cut = " ".join(prompt.split()[-max_words:])
                response = f"{instruction}\nUser: {prompt_cut}\nAssistant: {response}"
            side.append(response)
    return out


def embed(inputs: dict, outputs: dict, params: dict, threads: int) -> None:
    pairs = pl.read_parquet(inputs["pairs"])
    model = resolve_model(params["model"], params.get("revision"))
    texts_a, texts_b = texts_to_embed(pairs, params)
    with EmbeddingCache(params["cache"]) as cache:
        vectors, stats = embed_texts(
            texts_a + texts_b,
            model,
            cache,
            batch_size=int(params["batch_size"]),
            device=params.get("device"),
        )
    n = pairs.height
    deltas = vectors[:n] - vectors[n:]
    save_npy(outputs["deltas"], deltas.astype(np.float32, copy=False))
    write_json(
        outputs["meta"],
        {
            "model": params["model"],
            "model_identity": model.identity,
            "dim": int(vectors.shape[1]) if vectors.size else 0,
            "n_pairs": n,
            "texts": vars(stats),
            "mean_norm_A": float(np.linalg.norm(vectors[:n], axis=1).mean()) if n else 0.0,
            "mean_norm_delta": float(np.linalg.norm(deltas, axis=1).mean()) if n else 0.0,
        },
    )
