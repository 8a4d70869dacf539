"""The VADER lexicon as numbers, and the word normalisation every branch-L stage shares."""

from __future__ import annotations

import string
from functools import lru_cache
from importlib.resources import files

_PUNCT = string.punctuation.replace("'", "") + " "


@lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    """word -> mean valence (−3.9 … 3.4) from ``vaderSentiment/vader_lexicon.txt``.

    Read with ``importlib.resources`` and parsed as the package does (CRLF lines,
    TAB-separated, first two columns; a repeated token keeps its last value): 7,506 entries,
    the same dict ``SentimentIntensityAnalyzer().lexicon`` builds, without instantiating it.
    """
    text = (files("vaderSentiment") / "vader_lexicon.txt").read_text(encoding="utf-8")
    lexicon: dict[str, float] = {}
    for line in text.splitlines():  # splitlines also drops the CR of the CRLF endings
        if not line.strip():
            continue
        token, valence = line.strip().split("\t")[0:2]
        lexicon[token] = float(valence)
    return lexicon


def lexicon_range() -> tuple[float, float]:
    """(min, max) valence over the whole lexicon: the range probe predictions are mapped to."""
    values = vader_lexicon().values()
    return min(values), max(values)


def normalise_token(text: str) -> str:
    """A decoded token as a word: no byte-level space markers, outer punctuation or case."""
    return text.replace("Ġ", " ").replace("▁", " ").strip().strip(_PUNCT).lower()
