"""The interface every feature-description backend implements.

Branch W asks two things of a backend: *describe* what distinguishes the two responses of
pairs on which a feature fires strongly, and *annotate* held-out pairs with several concepts
at once (which response shows each concept more). The offline ``lexical`` backend answers
both from n-gram statistics; LLM backends (``prefscope.llm``) answer them with prompts.
Pairs are always oriented so that response A has more of the feature: backends never see
signs, only texts. This module is the interface only; the stage that needs backends builds
them (:func:`prefscope.interpret.factory.make_backends`), so implementations import it and
never the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class PairText:
    """One comparison as shown to a backend (already truncated)."""

    prompt: str
    response_A: str
    response_B: str


@runtime_checkable
class Describer(Protocol):
    """Writes candidate one-line descriptions of a feature from its top pairs."""

    name: str

    def describe(self, examples: Sequence[Sequence[PairText]], *, seed: int) -> list[str]:
        """One description per example set (each set: pairs where A has more of the feature).

        ``examples[c]`` is the sample for candidate ``c``; candidates differ by their sample.
        """
        ...

    def usage(self) -> dict[str, Any]:
        """Calls made, cache hits and misses, tokens and estimated cost so far."""
        ...


@runtime_checkable
class Annotator(Protocol):
    """Labels pairs with concepts: +1 = more in A, -1 = more in B, 0 = tie, NaN = missing."""

    name: str

    def annotate(self, pairs: Sequence[PairText], concepts: Sequence[str]) -> np.ndarray:
        """Return an array of shape ``(len(pairs), len(concepts))``."""
        ...

    def usage(self) -> dict[str, Any]: ...
