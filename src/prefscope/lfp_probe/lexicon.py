"""The VADER lexicon as numbers, and the word normalisation every LFP stage shares."""

from __future__ import annotations

import string
from functools import lru_cache

_PUNCT = string.punctuation.replace("'", "") + " "


@lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    """word -> mean valence (−3.9 … 3.4), as parsed by the ``vaderSentiment`` package."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return {str(k): float(v) for k, v in SentimentIntensityAnalyzer().lexicon.items()}


def lexicon_range() -> tuple[float, float]:
    """(min, max) valence over the whole lexicon: the range probe predictions are mapped to."""
    values = vader_lexicon().values()
    return min(values), max(values)


def normalise_token(text: str) -> str:
    """A decoded token as a word: no byte-level space markers, outer punctuation or case."""
    return text.replace("Ġ", " ").replace("▁", " ").strip().strip(_PUNCT).lower()
