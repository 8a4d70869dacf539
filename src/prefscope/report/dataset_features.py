"""The feature table of a dataset's page: one row per SAE feature that expands to its
description, candidate descriptions with their fidelity, effect with CI and the pairs where it
is strongest (response with more of the feature on the left, the preferred one outlined).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from prefscope.report.page import (
    Markup,
    cell,
    ci,
    esc,
    filter_controls,
    fmt,
    html_cell,
    kv_table,
    table,
)

MAX_CHARS = 1500  # example texts are cut here so a page with many features stays small


def _clip(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def _examples(j: int, z: np.ndarray, pairs: dict[str, list], n_examples: int) -> str:
    """The pairs where feature ``j`` (shown direction) is strongest, "more" side on the left."""
    out = []
    for i in np.argsort(-np.abs(z), kind="stable")[:n_examples]:
        if z[i] == 0:
            break
        a_more = z[i] > 0
        more, less = (
            (pairs["response_A"][i], pairs["response_B"][i])
            if a_more
            else (pairs["response_B"][i], pairs["response_A"][i])
        )
        label = pairs["label"][i]
        decided = label in (0, 1)
        more_won = decided and (label == 1) == a_more
        less_won = decided and not more_won
        verdict = (
            "the response with more of the feature won"
            if more_won
            else "the other response won"
            if less_won
            else "tie or no label"
        )
        out.append(
            f"<div class='example'><p class='prompt'>{esc(_clip(pairs['prompt'][i]))}</p>"
            f"<div class='pair'><div class='resp{' won' if more_won else ''}'>"
            f"<span class='tag'>more of it (response {'A' if a_more else 'B'})"
            f"{' · preferred' if more_won else ''}</span>\n{esc(_clip(more))}</div>"
            f"<div class='resp{' won' if less_won else ''}'>"
            f"<span class='tag'>less of it (response {'B' if a_more else 'A'})"
            f"{' · preferred' if less_won else ''}</span>\n{esc(_clip(less))}</div></div>"
            f"<p class='tag'>activation {fmt(float(z[i]))}; {verdict}</p></div>"
        )
    return "".join(out) or "<p class='mute'>The feature never fires.</p>"


def _details(row: dict[str, Any], examples: str) -> str:
    cands = row.get("candidates") or []
    rs = row.get("candidate_r") or []
    cand_rows = "".join(
        f"<li>{esc(c)} <span class='mute'>(fidelity r = {fmt(r)})</span></li>"
        for c, r in zip(cands, list(rs) + [None] * (len(cands) - len(rs)), strict=False)
    )
    return (
        "<details><summary>"
        + esc(row.get("description") or "(no description)")
        + "</summary><div class='inner'>"
        + kv_table(
            [
                (
                    "effect (log-odds per SD, length-controlled)",
                    Markup(f"{fmt(row.get('coef'))} {ci(row.get('ci_low'), row.get('ci_high'))}"),
                ),
                ("p / BH q", Markup(f"{fmt(row.get('p'))} / {fmt(row.get('q'))}")),
                (
                    "joint-model effect (all tested features together) / q",
                    Markup(
                        f"{fmt(row.get('joint_coef'))} "
                        f"{ci(row.get('joint_ci_low'), row.get('joint_ci_high'))} / "
                        f"{fmt(row.get('joint_q'))}"
                        + (" (significance differs)" if row.get("significance_differs") else "")
                        + (" (unexplained: not tested)" if row.get("unexplained") else "")
                    ),
                ),
                (
                    "win rate of the response with more of it",
                    Markup(
                        f"{fmt(row.get('win_rate'))} (Δ {fmt(row.get('delta_win_rate'))}, "
                        f"n = {fmt(row.get('n_active'))})"
                    ),
                ),
                ("prevalence (share of pairs where it fires)", row.get("prevalence")),
                (
                    "fidelity of the description",
                    Markup(
                        f"r = {fmt(row.get('fidelity_r'))}, p = {fmt(row.get('fidelity_p'))}, "
                        f"kept: {fmt(row.get('kept'))}"
                    ),
                ),
                ("sign relative to the SAE latent", row.get("orientation")),
            ]
        )
        + (f"<p>Candidate descriptions:</p><ul>{cand_rows}</ul>" if cand_rows else "")
        + f"<p>Pairs where it is strongest:</p>{examples}</div></details>"
    )


FEATURE_COLUMNS = [
    "feature",
    "label",
    "effect",
    "95% CI",
    "q",
    "Δ win rate",
    "prevalence",
    "fidelity r",
    "kept",
]


def feature_section(
    table_df: pl.DataFrame,
    pairs: pl.DataFrame,
    codes: np.ndarray,
    *,
    n_example_features: int,
    n_examples: int,
    sig_column: str = "significant",
) -> str:
    """The sortable, filterable feature table; each feature expands to its details.
    ``sig_column`` is the headline model's significance (marked, and the filter's)."""
    texts = {
        c: pairs.get_column(c).to_list() for c in ("prompt", "response_A", "response_B", "label")
    }
    groups = []
    ncol = len(FEATURE_COLUMNS)
    for rank, row in enumerate(table_df.iter_rows(named=True)):
        j = int(row["feature"])
        examples = (
            _examples(j, codes[:, j], texts, n_examples)
            if rank < n_example_features
            else "<p class='mute'>(examples are shown for the first "
            f"{n_example_features} features only)</p>"
        )
        sig = bool(row.get(sig_column))
        main = "".join(
            [
                cell(j),
                cell(row.get("label") or "", cls="sig" if sig else ""),
                cell(row.get("coef")),
                html_cell(ci(row.get("ci_low"), row.get("ci_high")), row.get("ci_low"), "num"),
                cell(row.get("q")),
                cell(row.get("delta_win_rate")),
                cell(row.get("prevalence")),
                cell(row.get("fidelity_r")),
                cell(row.get("kept")),
            ]
        )
        detail = f"<tr class='more'><td colspan='{ncol}'>{_details(row, examples)}</td></tr>"
        groups.append((f"data-sig='{int(sig)}' data-feature='{j}'", f"<tr>{main}</tr>{detail}"))
    return (
        "<h2 id='features'>Features</h2>"
        "<p class='mute'>Click a column to sort; the filter matches labels, descriptions and "
        "example text. Effect: log-odds of winning per SD of the feature, controlling for "
        "length; significant features (BH-FDR) in red. Each feature is shown in the direction "
        "its description names.</p>"
        + filter_controls("feature-table", placeholder="filter features (e.g. sorry)")
        + table(FEATURE_COLUMNS, [], table_id="feature-table", groups=groups)
    )
