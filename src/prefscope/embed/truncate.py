"""Cut texts to an embedding model's input limit, and count how many were cut.

OpenAI's embeddings endpoint rejects an input over the model's limit (8192 tokens for the
text-embedding-3 models) instead of truncating it, which would fail a whole batch. We cut
before sending, by tokens with tiktoken when it is installed and knows the model, else by
words at a conservative 0.75 words per token (and 4 characters per token, for texts with
very long "words"). The cut text is what the cache is keyed by, so a change of method only
re-embeds the texts it changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger("prefscope.embed")

WORDS_PER_TOKEN = 0.75
CHARS_PER_TOKEN = 4


@dataclass
class Truncator:
    """``cut(texts)`` returns the texts within ``limit``; ``n_truncated`` counts the cut ones."""

    method: str  # "none", "words" or "tiktoken:<encoding>"
    limit: int | None
    _encode: Callable[[str], list[int]] | None = field(default=None, repr=False)
    _decode: Callable[[list[int]], str] | None = field(default=None, repr=False)
    n_truncated: int = 0

    def cut_one(self, text: str) -> str:
        if self.limit is None:
            return text
        if self._encode is not None and self._decode is not None:
            tokens = self._encode(text)
            if len(tokens) <= self.limit:
                return text
            self.n_truncated += 1
            return self._decode(tokens[: self.limit])
        max_words = max(1, int(self.limit * WORDS_PER_TOKEN))
        words = text.split()
        out = text if len(words) <= max_words else " ".join(words[:max_words])
        out = out[: self.limit * CHARS_PER_TOKEN]
        if out != text:
            self.n_truncated += 1
        return out

    def cut(self, texts: Sequence[str]) -> list[str]:
        return [self.cut_one(t) for t in texts]

    def record(self) -> dict[str, object]:
        return {"method": self.method, "limit": self.limit, "n_truncated": self.n_truncated}


def openai_truncator(model: str, limit: int | None) -> Truncator:
    """Tokens via tiktoken for models it knows (when installed and its encoding loads);
    otherwise words. ``limit`` None: nothing is cut."""
    if limit is None:
        return Truncator("none", None)
    try:
        import tiktoken

        encoding = tiktoken.encoding_for_model(model)
    except ImportError:
        log.info(
            "tiktoken not installed: inputs are cut by words (~%d)", int(limit * WORDS_PER_TOKEN)
        )
        return Truncator("words", limit)
    except Exception as err:  # unknown model, or its encoding file cannot be fetched offline
        log.info("tiktoken has no encoding for %r (%s): inputs are cut by words", model, err)
        return Truncator("words", limit)
    return Truncator(
        f"tiktoken:{encoding.name}",
        limit,
        _encode=lambda t: encoding.encode(t, disallowed_special=()),
        _decode=encoding.decode,
    )
