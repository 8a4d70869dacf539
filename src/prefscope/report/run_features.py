"""The explained-features section of a branch-L run's page: one row per SAE feature with
its explanation and top contexts, words shaded by activation.
"""

from __future__ import annotations

from typing import Any

from prefscope.report.page import (
    cell,
    esc,
    extras,
    filter_controls,
    fmt,
    table,
)

MAX_CONTEXTS = 5  # top-activating contexts shown per feature


def _highlight(context: list) -> str:
    """Words of one context, each shaded by its activation level (0-10)."""
    out = []
    for item in context:
        word, level = (item[0], item[1]) if isinstance(item, list | tuple) else (item, 0)
        lv = max(0, min(10, int(level or 0)))
        if lv:
            out.append(
                f"<mark style='background:rgba(255,140,0,{lv / 10:.1f})' "
                f"title='level {lv}'>{esc(word)}</mark>"
            )
        else:
            out.append(esc(word))
    return "".join(out)


_FEATURE_LAYOUT = (
    "layer",
    "small",
    "big",
    "cosine",
    "explanation",
    "simulation_score",
    "relevant",
    "firing_rate",
    "max_activation",
    "top_contexts",
)


def features_section(explanations: dict[str, Any]) -> str:
    feats = explanations.get("features") or []
    groups = []
    head = [
        "layer",
        "feature",
        "explanation",
        "simulation score",
        "relevant",
        "firing rate",
        "max activation",
    ]
    for f in feats:
        relevant = bool(f.get("relevant"))
        contexts = (f.get("top_contexts") or [])[:MAX_CONTEXTS]
        ctx = (
            "".join(f"<div class='ctx'>{_highlight(c)}</div>" for c in contexts)
            or "<p class='mute'>(no contexts recorded)</p>"
        )
        main = "".join(
            [
                cell(f.get("layer")),
                cell(f.get("small")),
                cell(f.get("explanation"), cls="sig" if relevant else ""),
                cell(f.get("simulation_score")),
                cell(relevant),
                cell(f.get("firing_rate")),
                cell(f.get("max_activation")),
            ]
        )
        detail = (
            f"<tr class='more'><td colspan='{len(head)}'><details><summary>top-activating "
            f"contexts (matched big-SAE feature {fmt(f.get('big'))}, cosine "
            f"{fmt(f.get('cosine'))})</summary><div class='inner'>{ctx}"
            f"{extras(f, _FEATURE_LAYOUT)}</div></details></td></tr>"
        )
        groups.append((f"data-sig='{int(relevant)}'", f"<tr>{main}</tr>{detail}"))
    return (
        "<h2 id='features'>Explained features</h2>"
        f"<p class='mute'>Overlapping features (small and big SAE agree) explained from "
        f"token-level activations with the {esc(explanations.get('backend'))} backend; "
        "relevant ones (to the task) in red. Words are shaded by activation (0-10).</p>"
        + filter_controls("lfp-features", only="relevant only", placeholder="filter explanations")
        + table(head, [], table_id="lfp-features", groups=groups)
    )
