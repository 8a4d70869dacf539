"""Embedding throughput: prefscope's cached path vs raw sentence-transformers, side by side.

Run: ``python benchmarks/bench_embed.py [--n 2000] [--threads 1]``. Prints texts/s and the
ratios (cold cache = our overhead over a bare ``encode``; warm cache = what a rerun costs).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from prefscope.data.demo import generate_demo
from prefscope.embed.cache import EmbeddingCache
from prefscope.embed.encode import STEmbedder, embed_texts, load_sentence_transformer
from prefscope.embed.model import resolve_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000, help="number of texts")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pairs, _, _ = generate_demo(args.n // 2 + 1, seed=0)
    texts = (pairs["response_A"].to_list() + pairs["response_B"].to_list())[: args.n]
    texts = list(dict.fromkeys(texts))  # distinct texts, so both paths do the same work
    model = resolve_model("builtin:minilm")
    encoder = load_sentence_transformer(model, "cpu")
    encoder.encode(texts[:64], batch_size=args.batch_size)  # warm-up

    t0 = time.perf_counter()
    encoder.encode(texts, batch_size=args.batch_size, show_progress_bar=False)
    raw = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "c.sqlite")
        t0 = time.perf_counter()
        embedder = STEmbedder(model, batch_size=args.batch_size, encoder=encoder)
        embed_texts(texts, embedder, cache, progress=False)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        embed_texts(texts, embedder, cache, progress=False)
        warm = time.perf_counter() - t0
    n = len(texts)
    print(f"{n} distinct texts, {args.threads} thread(s), batch {args.batch_size}")
    print(f"{'path':<32}{'seconds':>10}{'texts/s':>12}{'ratio vs raw':>14}")
    for name, sec in [
        ("raw SentenceTransformer.encode", raw),
        ("prefscope, cold cache", cold),
        ("prefscope, warm cache (rerun)", warm),
    ]:
        print(f"{name:<32}{sec:>10.2f}{n / sec:>12.0f}{raw / sec:>14.2f}x")


if __name__ == "__main__":
    main()
