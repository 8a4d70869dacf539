"""Token-level feature explanations (Bills et al. 2023) with an offline stand-in for the LLM.

Activations are discretised to integers 0–10 by the feature's maximum over the *whole
dataset* (the reference normalised per example, which makes a weakly firing example look
as strong as the strongest). A record is one text as ``[(token, level), ...]``.

Three operations, each with the signature of its ``prefscope.llm`` counterpart so the
stage switches backends by config alone:

* ``explain_tokens(backend, records) -> str``;
* ``simulate(backend, explanation, token_sequences) -> list[list[float]]`` (predicted levels);
* ``relevance(backend, explanation, task_description) -> bool``.

The offline ``lexical`` backend explains a feature by the tokens with the highest mean level
(``fires on "great", "superb"``), simulates by predicting 10 for a listed token and 0
otherwise, and judges relevance *lexically*: for the VADER task an explanation is relevant
when at least half of its tokens are lexicon words with |valence| ≥ 1. It ignores the task
description — it is a lexical stand-in for the LLM judge, good enough to exercise the
pipeline offline and to serve as a baseline, not a semantic judgement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prefscope.lfp.lexicon import normalise_token, vader_lexicon

Record = list[tuple[str, int]]
_QUOTED = re.compile(r'"([^"]+)"')


def discretise(acts: np.ndarray, feature_max: float) -> np.ndarray:
    """Levels 0–10: ``round(10 * act / max)``, negatives to 0 (max over the dataset)."""
    if feature_max <= 0:
        return np.zeros(acts.shape, dtype=np.int64)
    return np.clip(np.rint(10.0 * np.maximum(acts, 0.0) / feature_max), 0, 10).astype(np.int64)


@dataclass(frozen=True)
class LexicalTokenBackend:
    """Offline explainer/simulator/relevance judge (no LLM)."""

    task_words: frozenset[str] = field(default_factory=frozenset)
    n_tokens: int = 5
    min_level: float = 1.0
    relevant_share: float = 0.5
    name: str = "lexical"


def vader_task_words(min_abs_valence: float = 1.0) -> frozenset[str]:
    """Lexicon words with |valence| ≥ ``min_abs_valence``: the VADER task's vocabulary."""
    return frozenset(w for w, v in vader_lexicon().items() if abs(v) >= min_abs_valence)


def explanation_tokens(explanation: str) -> list[str]:
    """The quoted tokens of an explanation (the machine-readable part)."""
    return [normalise_token(t) for t in _QUOTED.findall(explanation)]


def explain_tokens(backend: LexicalTokenBackend, records: Sequence[Record]) -> str:
    """Name the tokens with the highest mean level across ``records``."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for record in records:
        for token, level in record:
            key = normalise_token(token)
            if not key:
                continue
            sums[key] = sums.get(key, 0.0) + float(level)
            counts[key] = counts.get(key, 0) + 1
    means = {k: sums[k] / counts[k] for k in sums}
    ranked = sorted(
        (k for k, m in means.items() if m >= backend.min_level),
        key=lambda k: (-means[k], -counts[k], k),
    )[: backend.n_tokens]
    if not ranked:
        return "fires on no specific token"
    return "fires on " + ", ".join(f'"{k}"' for k in ranked)


def simulate(
    backend: LexicalTokenBackend, explanation: str, token_sequences: Sequence[Sequence[str]]
) -> list[list[float]]:
    """Predicted level per token: 10 when the token is one the explanation names, else 0."""
    named = set(explanation_tokens(explanation))
    return [[10.0 if normalise_token(t) in named else 0.0 for t in seq] for seq in token_sequences]


def simulation_score(pred: Iterable[Sequence[float]], true: Iterable[Sequence[float]]) -> float:
    """Pearson correlation of simulated and true levels over all tokens (0 when constant)."""
    p = np.concatenate([np.asarray(s, dtype=float) for s in pred]) if pred else np.zeros(0)
    t = np.concatenate([np.asarray(s, dtype=float) for s in true]) if true else np.zeros(0)
    if p.size < 2 or np.ptp(p) == 0 or np.ptp(t) == 0:
        return 0.0
    return float(np.corrcoef(p, t)[0, 1])


def relevance(backend: LexicalTokenBackend, explanation: str, task_description: str) -> bool:
    """Lexical stand-in: at least ``relevant_share`` of the named tokens are task words."""
    del task_description  # an LLM judge reads it; the lexical judge uses ``task_words``
    tokens = explanation_tokens(explanation)
    if not tokens:
        return False
    hits = sum(t in backend.task_words for t in tokens)
    return hits / len(tokens) >= backend.relevant_share


# --------------------------------------------------------------------------- backend choice


@dataclass
class TokenInterp:
    """The backend and the four functions a stage calls, whichever backend was configured."""

    backend: Any
    explain_tokens: Any
    simulate: Any
    simulation_score: Any
    relevance: Any

    def usage(self) -> dict[str, Any]:
        """LLM calls, cache hits/misses, tokens and cost; the lexical backend makes no calls."""
        usage = getattr(self.backend, "usage", None)
        return usage() if callable(usage) else {"backend": "lexical", "calls": 0}


def token_interp(params: dict[str, Any], task: str) -> TokenInterp:
    """``lexical`` (offline, this module) or an LLM backend from ``prefscope.llm`` by name."""
    name = params.get("backend", "lexical")
    if name == "lexical":
        words = (
            vader_task_words(params.get("min_abs_valence", 1.0))
            if task == "vader"
            else frozenset(w.lower() for w in params.get("relevance_keywords", []))
        )
        backend = LexicalTokenBackend(task_words=words, n_tokens=params.get("n_tokens", 5))
        return TokenInterp(backend, explain_tokens, simulate, simulation_score, relevance)
    from prefscope import llm

    backend = llm.backend_from_config(name, params.get("llm", {}), params.get("cache_path"))
    return TokenInterp(
        backend, llm.explain_tokens, llm.simulate, llm.simulation_score, llm.relevance
    )
