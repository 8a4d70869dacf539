"""The VADER lexicon reward of the LFP paper, without spaCy.

The paper's reward sums the VADER lexicon valence of every token of a text, divides by 5 and
clips to [−10, 10]; none of VADER's rules (negation, intensifiers, capitals, "but") apply.
The reference tokenised with spaCy ``en_core_web_md``; here a token is a run of ASCII letters
after lower-casing, optionally with inner apostrophes (``don't`` stays one token), found by
:data:`WORD_RE`. Like spaCy's split, that never matches emoticons (``:)``) or the one
multi-word entry (``can't stand``), so they score nothing. Only alphabetic lexicon entries
can ever match.

The lexicon is :func:`prefscope.lfp.lexicon.vader_lexicon` (7,506 entries).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from prefscope.lfp.lexicon import vader_lexicon

WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)*")
REWARD_SCALE = 5.0
REWARD_CLIP = 10.0


def words(text: str) -> list[str]:
    """The reward's tokens: lower-cased letter runs (see the module docstring)."""
    return WORD_RE.findall(text.lower())


def vader_score(text: str, lexicon: dict[str, float] | None = None) -> float:
    """Sum of lexicon valences of ``text``'s words / 5, clipped to [−10, 10]."""
    lex = vader_lexicon() if lexicon is None else lexicon
    total = sum(lex.get(w, 0.0) for w in words(text)) / REWARD_SCALE
    return float(min(REWARD_CLIP, max(-REWARD_CLIP, total)))


def vader_reward(texts: Iterable[str]) -> list[float]:
    """The paper's VADER reward of each text (the RL reward and the ablation's metric)."""
    lex = vader_lexicon()
    return [vader_score(t, lex) for t in texts]


def _completion_text(completion: Any) -> str:
    """A TRL completion as text: a string, or a list of chat messages (conversational)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        return " ".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    raise TypeError(f"unexpected completion type {type(completion).__name__}")


def vader_reward_func(completions: Sequence[Any], **_: Any) -> list[float]:
    """``reward_funcs`` entry for TRL's GRPO/RLOO trainers: scores the completion only.

    The paper's HEAD pipeline scores the response only (an older one scored query +
    response); scoring only what the policy wrote keeps the prefix's words out of the signal.
    """
    return vader_reward(_completion_text(c) for c in completions)
