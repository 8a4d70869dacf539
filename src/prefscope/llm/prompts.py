"""Every prompt prefscope sends, built from structured fields into clean delimited blocks.

Texts go in verbatim between tags (``<response_a>...</response_a>``), never as Python
reprs with ``\\n`` escapes (the reference code's habit), and A/B orientation is decided on
the structured :class:`~prefscope.interpret.backend.PairText` before formatting, never by
regex on the rendered text. A text that contains one of our own tags has it defused so it
cannot close a block early. Each builder returns chat messages; tests pin the exact strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

Messages = list[dict[str, str]]

_TAGS = re.compile(r"<(/?)(pair|prompt|response_a|response_b|text|tokens)\b", re.IGNORECASE)


def clean(text: str) -> str:
    """Strip outer whitespace and defuse our own block tags inside ``text``."""
    return _TAGS.sub(lambda m: f"<{m.group(1)} {m.group(2)}", text.strip())


def block(tag: str, text: str, **attrs: Any) -> str:
    """``<tag a=1>\\ntext\\n</tag>``."""
    head = " ".join([tag, *(f"{k}={v}" for k, v in attrs.items())])
    return f"<{head}>\n{clean(text)}\n</{tag}>"


def pair_block(pair: Any, index: int | None = None) -> str:
    """One comparison: prompt, response A, response B (``pair`` is a PairText)."""
    inner = "\n".join([
        block("prompt", pair.prompt),
        block("response_a", pair.response_A),
        block("response_b", pair.response_B),
    ])
    if index is None:
        return inner
    return f"<pair id={index}>\n{inner}\n</pair>"


# ---------------------------------------------------------------- branch W: describe

DESCRIBE_SYSTEM = (
    "You are a machine-learning researcher explaining a feature learned by a sparse "
    "autoencoder on pairs of responses to the same prompt."
)

DESCRIBE_TASK = """\
In every pair above, response A has more of one feature than response B. The feature can \
concern content, style, format or tone.

Describe that feature as a property of a single response, from response A's side, in one \
short line. Rules:
- Be concrete and specific, but general enough to cover all the pairs.
- If A has less of something, use a negation ("does not mention prices").
- Do not mention "response A" or "response B", and do not compare (no "more", "less", "than").
- Examples of good descriptions: "uses a numbered list"; "refuses to answer the request"; \
"addresses the user by name".

Answer with the description only, on one line."""


def describe_messages(pairs: Sequence[Any]) -> Messages:
    """Ask for one line describing what A has more of across ``pairs``."""
    examples = "\n\n".join(pair_block(p, i) for i, p in enumerate(pairs, start=1))
    return [
        {"role": "system", "content": DESCRIBE_SYSTEM},
        {"role": "user", "content": f"{examples}\n\n{DESCRIBE_TASK}"},
    ]


# ---------------------------------------------------------------- branch W: annotate

ANNOTATE_SYSTEM = "You are a careful annotator comparing two responses to the same prompt."


def _keys_phrase(n: int) -> str:
    if n == 1:
        return 'the key "1" mapped to'
    keys = '"1" and "2"' if n == 2 else f'"1" to "{n}"'
    return f"the keys {keys}, each mapped to"


def annotate_messages(pair: Any, concepts: Sequence[str]) -> Messages:
    """Ask which response shows each concept more: a JSON object {"1": "A"|"B"|"Tie", ...}."""
    listing = "\n".join(f"{i}. {clean(c)}" for i, c in enumerate(concepts, start=1))
    user = (
        f"{pair_block(pair)}\n\n"
        "For each concept below, decide whether it is more present in response A, more "
        'present in response B, or neither ("Tie"). Judge only the two responses, not which '
        'one is better. Answer "Tie" unless the concept is clearly more present in one '
        "response.\n\n"
        f"Concepts:\n{listing}\n\n"
        f"Answer with only a JSON object with {_keys_phrase(len(concepts))} "
        '"A", "B" or "Tie".'
    )
    return [{"role": "system", "content": ANNOTATE_SYSTEM}, {"role": "user", "content": user}]


# ---------------------------------------------------------------- short labels

def label_messages(description: str) -> Messages:
    """Ask for a label of at most five words with the same meaning."""
    return [{"role": "user", "content": (
        "Shorten this description of a text feature to a label of at most five words. "
        "Keep its meaning, including any negation.\n\n"
        f"Description: {clean(description)}\n\n"
        "Answer with the label only."
    )}]


# ---------------------------------------------------------------- branch L (Bills et al.)

def show_token(token: str) -> str:
    """A token as one visible line: newlines and tabs become arrows, spaces stay."""
    return token.replace("\r", "").replace("\n", "↵").replace("\t", "⇥")


def tokens_block(tokens: Sequence[str], levels: Sequence[int] | None = None, **attrs: Any) -> str:
    """``<text>`` with one ``token<TAB>level`` line per token, or ``<tokens>`` numbered."""
    if levels is None:
        lines = [f"{i}\t{show_token(t)}" for i, t in enumerate(tokens, start=1)]
        tag = "tokens"
    else:
        lines = [f"{show_token(t)}\t{int(v)}" for t, v in zip(tokens, levels, strict=True)]
        tag = "text"
    head = " ".join([tag, *(f"{k}={v}" for k, v in attrs.items())])
    return f"<{head}>\n" + "\n".join(lines) + f"\n</{tag}>"


EXPLAIN_TOKENS_SYSTEM = (
    "We are studying features of a language model. Each feature looks for one particular "
    "thing in a text. You see texts split into tokens, one token per line, each followed by "
    "a tab and the feature's activation on it: an integer from 0 (not active) to 10 (most "
    "active)."
)


def explain_tokens_messages(records: Sequence[Sequence[tuple[str, int]]]) -> Messages:
    """Ask what the feature fires on, from token/level records."""
    texts = "\n\n".join(
        tokens_block([t for t, _ in r], [v for _, v in r], id=i)
        for i, r in enumerate(records, start=1)
    )
    return [
        {"role": "system", "content": EXPLAIN_TOKENS_SYSTEM},
        {"role": "user", "content": (
            f"{texts}\n\nIn one short sentence, what does this feature fire on? Name the "
            "kind of token or context rather than listing every token. Answer with the "
            "explanation only."
        )},
    ]


SIMULATE_SYSTEM = (
    "We are studying features of a language model. Each feature looks for one particular "
    "thing in a text. Given an explanation of a feature, you predict its activation on every "
    "token of a text: an integer from 0 (not active) to 10 (most active)."
)


def simulate_messages(explanation: str, tokens: Sequence[str]) -> Messages:
    """Ask for a predicted level (0–10) for every token, given the explanation."""
    return [
        {"role": "system", "content": SIMULATE_SYSTEM},
        {"role": "user", "content": (
            f"The feature fires on: {clean(explanation)}\n\n"
            f"{tokens_block(tokens)}\n\n"
            "Predict the feature's activation on each numbered token, an integer from 0 to "
            f"10. Answer with only a JSON array of {len(tokens)} integers, one per token, "
            "in order."
        )},
    ]


def relevance_messages(explanation: str, task_description: str) -> Messages:
    """Ask whether a feature matters for the task the model was trained on."""
    return [{"role": "user", "content": (
        f"A language model was fine-tuned for this task: {clean(task_description)}\n\n"
        f"One of its features fires on: {clean(explanation)}\n\n"
        "Is this feature relevant to the task, that is, would it plausibly help the model do "
        'the task or be rewarded for it? Answer with only "yes" or "no".'
    )}]
