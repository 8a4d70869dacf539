"""Offline embeddings with a vLLM pooling engine (``embed.model: vllm:<model>``, GPU rule).

For the 8B instructed embedders WIMHF's README recommends (Qwen3-Embedding-8B,
llama-embed-nemotron-8b), which are slow under sentence-transformers. ``vllm`` is the
optional extra ``prefscope[vllm]`` (no CPU install) and is imported when the engine is first
needed, so a fully cached re-run never loads it. Texts over ``max_input_tokens`` are cut with
the model's own tokenizer and counted. For most users ``vllm serve`` plus
``embed.model: openai:<model>`` and ``embed.base_url`` is the simpler route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

log = logging.getLogger("prefscope.embed")

MISSING_VLLM = (
    "embed.model {model!r} needs the vllm package, which is not installed. Install the optional "
    "extra on a GPU machine (pip install 'prefscope[vllm]'), or run `vllm serve MODEL` and set "
    "embed.model: openai:MODEL with embed.base_url: http://HOST:8000/v1."
)


@dataclass(frozen=True)
class VLLMSettings:
    model: str  # local path or hub id (the part after "vllm:")
    revision: str | None = None
    dimensions: int | None = None
    max_input_tokens: int | None = 8192
    batch_size: int = 64
    engine: dict[str, Any] = field(default_factory=dict)  # embed.vllm: dtype, max_model_len...

    @property
    def identity(self) -> str:
        return (
            f"vllm:{self.model}@{self.revision or 'main'}#dim={self.dimensions or 'native'}"
            f"#max_tokens={self.max_input_tokens}"
        )


class VLLMEmbedder:
    """``encode(texts, store)`` through one ``vllm.LLM(runner="pooling")`` engine."""

    def __init__(self, settings: VLLMSettings) -> None:
        self.settings = settings
        self._engine: Any = None
        self.n_truncated = 0
        self.n_tokens = 0

    @property
    def identity(self) -> str:
        return self.settings.identity

    def engine_kwargs(self) -> dict[str, Any]:
        """Arguments of ``vllm.LLM``: a pooling runner for the configured model."""
        kwargs: dict[str, Any] = {"model": self.settings.model, "runner": "pooling"}
        if self.settings.revision:
            kwargs["revision"] = self.settings.revision
        kwargs.update({k: v for k, v in self.settings.engine.items() if v is not None})
        return kwargs

    def engine(self) -> Any:
        if self._engine is None:
            try:
                import vllm
            except ImportError:
                raise RuntimeError(MISSING_VLLM.format(model=self.settings.model)) from None
            self._engine = vllm.LLM(**self.engine_kwargs())
        return self._engine

    def pooling_params(self) -> Any:
        import vllm

        if self.settings.dimensions is None:
            return None
        return vllm.PoolingParams(dimensions=self.settings.dimensions)

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """``texts`` cut to ``max_input_tokens`` tokens of the model's tokenizer (counted)."""
        limit = self.settings.max_input_tokens
        tokenizer = self.engine().get_tokenizer()
        out = []
        for text in texts:
            ids = tokenizer.encode(text, add_special_tokens=False)
            if limit is not None and len(ids) > limit:
                self.n_truncated += 1
                ids = ids[:limit]
                text = tokenizer.decode(ids)
            self.n_tokens += len(ids)
            out.append(text)
        return out

    def encode(
        self,
        texts: Sequence[str],
        store: Callable[[list[int], np.ndarray], None],
        *,
        progress: bool = True,
    ) -> None:
        size = self.settings.batch_size * 16  # vLLM schedules its own batches; store often
        params = self.pooling_params()
        extra = {"pooling_params": params} if params is not None else {}
        for start in tqdm(range(0, len(texts), size), disable=not progress, desc="embed"):
            positions = list(range(start, min(start + size, len(texts))))
            prompts = self.prepare([texts[i] for i in positions])
            outputs = self.engine().embed(prompts, use_tqdm=False, **extra)
            vectors = np.asarray([o.outputs.embedding for o in outputs], dtype=np.float32)
            if vectors.shape[0] != len(positions):
                raise RuntimeError(
                    f"vLLM returned {vectors.shape[0]} vectors for {len(positions)} texts"
                )
            store(positions, vectors)

    def truncation(self) -> dict[str, Any]:
        """Inputs cut in this run (texts served from the cache were counted when embedded)."""
        return {
            "method": "model tokenizer (texts embedded in this run)",
            "limit": self.settings.max_input_tokens,
            "n_truncated": self.n_truncated,
        }

    def usage(self) -> dict[str, Any]:
        return {
            "backend": "embed",
            "type": "vllm",
            "model": self.settings.model,
            "prompt_tokens": self.n_tokens,
            "cost_usd": None,
        }
