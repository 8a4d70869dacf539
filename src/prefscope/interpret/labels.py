"""Short labels for tables and plots, derived from a feature's best description.

A backend may offer ``short_label(description)`` (an LLM can abbreviate without changing the
meaning, as WIMHF does); otherwise the label is a deterministic shortening: the quoted terms
of a lexical description, or the first words of any other description.
"""

from __future__ import annotations

import re
from typing import Any

_QUOTED = re.compile(r"[\"“”]([^\"“”]+)[\"“”]")
_FEWER = re.compile(r"^\s*uses fewer of\b", re.IGNORECASE)


def shorten(description: str, max_chars: int = 40, max_terms: int = 3) -> str:
    """A deterministic label of at most ``max_chars`` characters.

    ``uses the words "sorry", "apologize", "my apologies"`` -> ``sorry / apologize / my
    apologies``; ``uses fewer of the words "sorry"`` -> ``fewer: sorry``; free text keeps
    its leading words and ends with an ellipsis when cut.
    """
    description = " ".join(description.split())
    if not description:
        return ""
    terms = _QUOTED.findall(description)
    if terms:
        text = " / ".join(terms[:max_terms])
        if _FEWER.match(description):
            text = "fewer: " + text
    else:
        text = description.rstrip(".")
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0].rstrip(" /,;:")
    return (cut or text[: max_chars - 1]) + "…"


def short_label(description: str, backend: Any | None = None) -> str:
    """The backend's own short label if it has one, else :func:`shorten`."""
    if not description:
        return ""
    method = getattr(backend, "short_label", None)
    if callable(method):
        label = str(method(description)).strip()
        if label:
            return label
    return shorten(description)
