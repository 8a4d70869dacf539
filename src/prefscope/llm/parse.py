"""Parsers for model answers: lenient about wrapping, strict about content.

Reasoning models wrap answers in ``<think>...</think>``, chat models in code fences or
quotes; those are stripped. What remains must be exactly what was asked (one line, a JSON
object with the right keys and values, ...); otherwise :class:`MalformedAnswer` carries a
reason the backend shows to the model when it asks again.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from prefscope.llm.errors import MalformedAnswer

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)
_BULLET = re.compile(r"^(?:[-*•]\s+|\d+[.)]\s+)")
_PREFIX = re.compile(r"^(?:description|label|explanation|answer|feature)\s*:\s*", re.IGNORECASE)
_QUOTES = "\"'`“”‘’"
ANNOTATION_VALUES = {"a": 1.0, "b": -1.0, "tie": 0.0}


def strip_wrappers(text: str) -> str:
    """Remove ``<think>`` blocks and one enclosing code fence."""
    text = _THINK.sub("", text)
    if re.search(r"<think>", text, re.IGNORECASE):
        raise MalformedAnswer("the answer is unfinished reasoning (<think> without </think>)")
    text = text.strip()
    fence = _FENCE.match(text)
    return fence.group(1).strip() if fence else text


def parse_line(text: str, *, max_chars: int = 300) -> str:
    """The first non-empty line, without bullets, ``Description:`` prefixes or quotes."""
    lines = [ln.strip() for ln in strip_wrappers(text).splitlines() if ln.strip()]
    if not lines:
        raise MalformedAnswer("the answer is empty")
    line = _PREFIX.sub("", _BULLET.sub("", lines[0])).strip()
    if len(line) >= 2 and line[0] in _QUOTES and line[-1] in _QUOTES:
        line = line[1:-1].strip()
    line = line.strip(_QUOTES).strip()
    if not line:
        raise MalformedAnswer("the answer is empty")
    if len(line) > max_chars:
        raise MalformedAnswer(f"the answer is longer than {max_chars} characters")
    return line


def _json(text: str, kind: type, what: str) -> Any:
    body = strip_wrappers(text)
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        raise MalformedAnswer(f"the answer is not valid JSON (expected {what})") from None
    if not isinstance(value, kind):
        raise MalformedAnswer(f"the answer is JSON but not {what}")
    return value


def parse_annotation(text: str, n_concepts: int) -> list[float]:
    """``{"1": "A", "2": "Tie", ...}`` -> ``[1.0, 0.0, ...]`` (A = +1, B = -1, Tie = 0)."""
    obj = _json(text, dict, "an object")
    expected = {str(i) for i in range(1, n_concepts + 1)}
    if set(obj) != expected:
        missing = sorted(expected - set(obj), key=int)
        extra = sorted(set(obj) - expected)
        detail = "; ".join(
            part for part in (f"missing keys {missing}" if missing else "",
                              f"unexpected keys {extra}" if extra else "") if part
        )
        raise MalformedAnswer(f"the JSON object must have exactly the keys 1..{n_concepts} "
                              f"({detail})")
    out = []
    for i in range(1, n_concepts + 1):
        value = obj[str(i)]
        label = value.strip().lower() if isinstance(value, str) else None
        if label not in ANNOTATION_VALUES:
            raise MalformedAnswer(f'key "{i}" must be "A", "B" or "Tie", got {json.dumps(value)}')
        out.append(ANNOTATION_VALUES[label])
    return out


def parse_yes_no(text: str) -> bool:
    """``yes`` / ``no`` (case, quotes and trailing punctuation ignored)."""
    words = strip_wrappers(text).split()
    word = words[0].strip(_QUOTES + ".,;:!").lower() if words else ""
    if word not in ("yes", "no"):
        raise MalformedAnswer('the answer must be "yes" or "no"')
    return word == "yes"


def parse_levels(text: str, n_tokens: int) -> list[float]:
    """A JSON array of ``n_tokens`` numbers, clipped to 0–10."""
    values = _json(text, list, "an array")
    if len(values) != n_tokens:
        raise MalformedAnswer(f"the array has {len(values)} values, expected {n_tokens}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise MalformedAnswer(f"every value must be a number from 0 to 10, got {json.dumps(v)}")
        out.append(min(10.0, max(0.0, float(v))))
    return out
