"""Branch W's describer and annotator on top of any chat backend.

Implements the ``Describer`` and ``Annotator`` protocols of
:mod:`prefscope.interpret.backend`: the stage samples and orients the pairs (A has more of
the feature); this class only turns them into prompts and parses the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from prefscope.llm.chat import ChatBackend
from prefscope.llm.parse import parse_annotation, parse_line
from prefscope.llm.prompts import annotate_messages, describe_messages, label_messages


class FeatureBackend:
    """Describe features, annotate pairs with concepts, shorten descriptions to labels."""

    def __init__(self, chat: ChatBackend) -> None:
        self.chat = chat
        self.name = chat.name

    def describe(self, examples: Sequence[Sequence[Any]], *, seed: int) -> list[str]:
        """One line per example set (candidates differ by their samples; one call each).

        ``seed`` is sent with every call (servers that honour it make sampling at
        temperature > 0 reproducible). A candidate whose answer stays malformed comes back
        as ``""`` (counted missing); the fidelity stage scores it as explaining nothing.
        """
        answers = self.chat.complete_many([describe_messages(p) for p in examples],
                                          parse=parse_line, seed=int(seed))
        return [a or "" for a in answers]

    def annotate(self, pairs: Sequence[Any], concepts: Sequence[str]) -> np.ndarray:
        """``[len(pairs), len(concepts)]``: +1 more in A, -1 more in B, 0 tie, NaN missing.

        All concepts of a pair go in one call. Empty concepts are not asked about (NaN).
        """
        result = np.full((len(pairs), len(concepts)), np.nan)
        asked = [j for j, c in enumerate(concepts) if c.strip()]
        if not asked or not pairs:
            return result
        chosen = [concepts[j] for j in asked]
        answers = self.chat.complete_many(
            [annotate_messages(p, chosen) for p in pairs],
            parse=partial(parse_annotation, n_concepts=len(chosen)),
        )
        for i, answer in enumerate(answers):
            if answer is not None:
                result[i, asked] = answer
        return result

    def short_label(self, description: str) -> str:
        """A label of at most five words, or ``""`` (the caller then shortens locally)."""
        if not description.strip():
            return ""
        [label] = self.chat.complete_many([label_messages(description)],
                                          parse=partial(parse_line, max_chars=60))
        return label or ""

    def usage(self) -> dict[str, Any]:
        return self.chat.usage()
