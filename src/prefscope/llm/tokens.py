"""Branch L's token-level interpretation with an LLM (Bills et al. 2023).

Records are texts as ``[(token, level), ...]`` with levels already discretised to 0–10 by
the caller (over the whole dataset). The explainer sees records in ``token<TAB>level``
blocks; the simulator predicts a level for every token from the explanation alone; the
explanation's score is the correlation of predicted and true levels. The offline stand-ins
with the same signatures live in :mod:`prefscope.lfp.validation.explain`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from functools import partial

import numpy as np

from prefscope.llm.chat import ChatBackend
from prefscope.llm.parse import parse_levels, parse_line, parse_yes_no
from prefscope.llm.prompts import explain_tokens_messages, relevance_messages, simulate_messages

log = logging.getLogger("prefscope.llm")


def explain_tokens(backend: ChatBackend, records: Sequence[Sequence[tuple[str, int]]]) -> str:
    """A one-sentence explanation of the feature, or ``""`` when no valid answer came."""
    [text] = backend.complete_many([explain_tokens_messages(records)], parse=parse_line)
    return text or ""


def simulate(
    backend: ChatBackend, explanation: str, token_sequences: Sequence[Sequence[str]]
) -> list[list[float]]:
    """Predicted levels per token (one call per text, concurrent); NaN where no valid answer."""
    asked = [i for i, seq in enumerate(token_sequences) if len(seq)]
    answers = backend.complete_many(
        [simulate_messages(explanation, list(token_sequences[i])) for i in asked],
        parse=[partial(parse_levels, n_tokens=len(token_sequences[i])) for i in asked],
    )
    out: list[list[float]] = [[] for _ in token_sequences]
    for i, answer in zip(asked, answers, strict=True):
        out[i] = list(answer) if answer is not None else [math.nan] * len(token_sequences[i])
    return out


def simulation_score(pred: Iterable[Sequence[float]], true: Iterable[Sequence[float]]) -> float:
    """Pearson r of predicted and true levels over all tokens with a prediction.

    0.0 when fewer than two tokens are predicted or either side is constant (an
    explanation that predicts nothing measurable scores nothing).
    """
    pred, true = list(pred), list(true)
    p = np.concatenate([np.asarray(s, dtype=float) for s in pred]) if pred else np.zeros(0)
    t = np.concatenate([np.asarray(s, dtype=float) for s in true]) if true else np.zeros(0)
    if p.shape != t.shape:
        raise ValueError(f"{p.size} predicted levels for {t.size} true levels")
    ok = ~np.isnan(p)
    p, t = p[ok], t[ok]
    if p.size < 2 or np.ptp(p) == 0 or np.ptp(t) == 0:
        return 0.0
    return float(np.corrcoef(p, t)[0, 1])


def relevance(backend: ChatBackend, explanation: str, task_description: str) -> bool:
    """Does the explained feature matter for the task? ``False`` when no valid answer came."""
    if not explanation.strip():
        return False
    [answer] = backend.complete_many(
        [relevance_messages(explanation, task_description)], parse=parse_yes_no
    )
    if answer is None:
        log.warning("no valid relevance answer for %r; counted as not relevant", explanation)
        return False
    return bool(answer)
