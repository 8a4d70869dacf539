"""Probe metrics on *values aligned by word*.

The reference passed two lists of token *names* (sorted by true and by predicted value) to
``kendalltau``, which then correlates alphabetical ranks position by position: perfectly
reversed predictions score about 0. Here every metric takes per-word numbers and aligns them
by word before computing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def per_word_mean(words: Sequence[str], values: Sequence[float]) -> dict[str, float]:
    """Mean of ``values`` per word (a word seen in several inputs counts once)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for word, value in zip(words, values, strict=True):
        sums[word] = sums.get(word, 0.0) + float(value)
        counts[word] = counts.get(word, 0) + 1
    return {w: sums[w] / counts[w] for w in sums}


def aligned(
    pred: Mapping[str, float], true: Mapping[str, float]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Words present in both maps (sorted) and their predicted and true values."""
    words = sorted(set(pred) & set(true))
    return (
        words,
        np.array([pred[w] for w in words], dtype=float),
        np.array([true[w] for w in words], dtype=float),
    )


def kendall(pred: Mapping[str, float], true: Mapping[str, float]) -> dict[str, float | int | None]:
    """Kendall tau-b and its p-value between predicted and true values, aligned by word."""
    from scipy.stats import kendalltau

    words, p, t = aligned(pred, true)
    if len(words) < 2 or np.ptp(p) == 0 or np.ptp(t) == 0:
        return {"tau": None, "p": None, "n_words": len(words)}
    result = kendalltau(p, t)
    return {"tau": float(result.statistic), "p": float(result.pvalue), "n_words": len(words)}


def sign_accuracy(pred: Mapping[str, float], true: Mapping[str, float]) -> dict[str, float | None]:
    """Share of positive-valence words predicted > 0 and of negative ones predicted < 0."""
    _, p, t = aligned(pred, true)
    pos, neg = t > 0, t < 0
    return {
        "positive": float(np.mean(p[pos] > 0)) if pos.any() else None,
        "negative": float(np.mean(p[neg] < 0)) if neg.any() else None,
        "n_positive": int(pos.sum()),
        "n_negative": int(neg.sum()),
    }


def negative_only(pred: Mapping[str, float], true: Mapping[str, float]) -> dict[str, float | None]:
    """Kendall tau over negative-valence words only (the paper's Table 10)."""
    neg_true = {w: v for w, v in true.items() if v < 0}
    return kendall({w: v for w, v in pred.items() if w in neg_true}, neg_true)


def abs_errors(pred: Mapping[str, float], true: Mapping[str, float]) -> dict[str, float]:
    """|prediction − lexicon value| per word."""
    words, p, t = aligned(pred, true)
    return {w: float(abs(a - b)) for w, a, b in zip(words, p, t, strict=True)}
