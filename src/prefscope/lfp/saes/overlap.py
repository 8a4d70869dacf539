"""How far the small and big SAEs of a layer learned the same features.

The small and big decoders are matched one-to-one by the Hungarian algorithm on cosine
similarity (``prefscope.sae.mmcs``); MMCS is the mean matched cosine. The overlapping
features are the small-dictionary features with the highest matched cosine — those with
cosine ≥ ``min_cos``, at most ``top_k`` per layer — each carried with its *matched* index in
the big dictionary (the reference looked features up in the big SAE at the small index).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def overlapping_features(
    pairs: list[tuple[int, int, float]], min_cos: float, top_k: int
) -> list[dict[str, Any]]:
    """Small features by matched cosine (desc), cos ≥ ``min_cos``, at most ``top_k``."""
    ranked = sorted(pairs, key=lambda p: (-p[2], p[0]))
    kept = [p for p in ranked if p[2] >= min_cos][:top_k]
    return [{"small": int(i), "big": int(j), "cos": float(c)} for i, j, c in kept]


def overlap(dec_small: np.ndarray, dec_big: np.ndarray, min_cos: float, top_k: int):
    """MMCS and the overlapping features of one layer's two dictionaries."""
    from prefscope.sae import mmcs

    result = mmcs(dec_small, dec_big)
    pairs = [(int(i), int(j), float(c)) for i, j, c in result["pairs"]]
    return {
        "mmcs": float(result["mmcs"]),
        "features": overlapping_features(pairs, min_cos, top_k),
    }
