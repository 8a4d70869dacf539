"""Workflow stage: embed both responses of every pair and write delta = e(A) - e(B).

``params`` carry what changes the vectors (model, endpoint, dimensions, input limit, text
preparation); the ``embed:`` section of the workflow ``config`` (read at run time, passed by
:func:`prefscope.workflow.run_stage` because :func:`embed` takes ``config``) carries what only
changes how they are fetched (key variable, batch size, concurrency, retries, budget, prices),
so editing those re-runs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from prefscope.embed.api import APIEmbedder, APISettings
from prefscope.embed.cache import EmbeddingCache
from prefscope.embed.encode import Embedder, STEmbedder, embed_texts
from prefscope.embed.model import embed_kind, resolve_model
from prefscope.embed.truncate import Truncator, openai_truncator
from prefscope.embed.vllm import VLLMEmbedder, VLLMSettings
from prefscope.io import save_npy, write_json

_FIELD = re.compile(r"\{(prompt|response)\}")


def truncate_words(text: str, max_words: int) -> str:
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words])


def render_instruction(template: str, prompt: str, response: str) -> str:
    """The instructed-embedder input: ``{prompt}`` / ``{response}`` filled in (one pass, so
    braces inside the texts are left alone); a template without fields is a prefix."""
    if _FIELD.search(template):
        return _FIELD.sub(lambda m: prompt if m.group(1) == "prompt" else response, template)
    return f"{template}\nUser: {prompt}\nAssistant: {response}"


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
                response = render_instruction(instruction, prompt_cut, response)
            side.append(response)
    return out


def _setting(runtime: Mapping[str, Any], key: str, default: Any) -> Any:
    value = runtime.get(key)
    return default if value is None else value


def build_embedder(
    params: Mapping[str, Any], runtime: Mapping[str, Any] | None = None
) -> tuple[Embedder, Truncator]:
    """The embedder ``params["model"]`` names, and the truncation applied before caching."""
    runtime = runtime or {}
    backend = params.get("backend") or {}
    spec = params["model"]
    kind = embed_kind(spec)
    if kind == "openai":
        settings = APISettings(
            model=spec.removeprefix("openai:"),
            base_url=backend.get("base_url"),
            dimensions=backend.get("dimensions"),
            api_key_env=runtime.get("api_key_env", "OPENAI_API_KEY"),
            batch_size=_setting(runtime, "batch_size", 128),
            **{
                k: runtime[k]
                for k in (
                    "concurrency",
                    "timeout",
                    "max_retries",
                    "retry_base_delay",
                    "retry_max_delay",
                    "max_requests",
                    "max_tokens",
                    "price_per_million",
                )
                if k in runtime
            },
        )
        return APIEmbedder(settings), openai_truncator(
            settings.model, backend.get("max_input_tokens")
        )
    if kind == "vllm":
        vllm_settings = VLLMSettings(
            model=spec.removeprefix("vllm:"),
            revision=backend.get("revision"),
            dimensions=backend.get("dimensions"),
            max_input_tokens=backend.get("max_input_tokens"),
            batch_size=_setting(runtime, "batch_size", 64),
            engine=dict(backend.get("engine") or {}),
        )
        return VLLMEmbedder(vllm_settings), Truncator("none", None)
    model = resolve_model(spec, backend.get("revision", params.get("revision")))
    embedder = STEmbedder(
        model, batch_size=int(_setting(backend, "batch_size", 64)), device=backend.get("device")
    )
    return embedder, Truncator("none", None)


def _usage(embedder: Embedder, stats: Any) -> dict[str, Any] | None:
    usage = getattr(embedder, "usage", None)
    if usage is None:
        return None
    u = usage()
    return {
        "requests": u.get("calls"),
        "retries": u.get("retries"),
        "cache_hits": stats.n_cached,
        "cache_misses": stats.n_embedded,
        "tokens": u.get("prompt_tokens"),
        "cost_usd": u.get("cost_usd"),
    }


def embed(
    inputs: dict,
    outputs: dict,
    params: dict,
    threads: int,
    config: Mapping[str, Any] | None = None,
) -> None:
    """Write ``deltas`` (e(A) - e(B) per pair) and ``meta``; ``config["embed"]`` holds the
    run-time settings (see the module docstring)."""
    pairs = pl.read_parquet(inputs["pairs"])
    embedder, truncator = build_embedder(params, (config or {}).get("embed"))
    texts_a, texts_b = texts_to_embed(pairs, params)
    texts = truncator.cut(texts_a + texts_b)
    with EmbeddingCache(params["cache"]) as cache:
        vectors, stats = embed_texts(texts, embedder, cache)
    # vLLM cuts with the model's tokenizer while embedding; the others before the cache
    truncation = embedder.truncation() if isinstance(embedder, VLLMEmbedder) else truncator.record()
    n = pairs.height
    deltas = vectors[:n] - vectors[n:]
    save_npy(outputs["deltas"], deltas.astype(np.float32, copy=False))
    write_json(
        outputs["meta"],
        {
            "model": params["model"],
            "model_identity": embedder.identity,
            "dim": int(vectors.shape[1]) if vectors.size else 0,
            "n_pairs": n,
            "texts": vars(stats),
            "truncation": truncation,
            "usage": _usage(embedder, stats),
            "mean_norm_A": float(np.linalg.norm(vectors[:n], axis=1).mean()) if n else 0.0,
            "mean_norm_delta": float(np.linalg.norm(deltas, axis=1).mean()) if n else 0.0,
        },
    )
