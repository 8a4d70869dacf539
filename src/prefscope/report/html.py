"""A self-contained HTML page of the features with example pairs.

All dataset text (prompts, responses, descriptions derived from them) is escaped: a
preference dataset can contain anything, including markup and scripts.
"""

from __future__ import annotations

from html import escape

import numpy as np
import polars as pl

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin:6px 0 14px}
.resp{white-space:pre-wrap;background:#f6f6f6;padding:6px;border-radius:4px;font-size:0.9em}
.won{outline:2px solid #2a7}.prompt{color:#555;font-style:italic}
"""


def _fmt(x: object, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    return f"{x:.{digits}g}" if isinstance(x, float) else escape(str(x))


def feature_page(
    dataset: str, table: pl.DataFrame, pairs: pl.DataFrame, codes: np.ndarray, n_examples: int = 3
) -> str:
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>prefscope: {escape(dataset)}</title>",
        f"<style>{_STYLE}</style><h1>What the feedback in {escape(dataset)} rewards</h1>",
        "<p>Features are sorted by length-controlled label effect (significant first). "
        "In each example the response with more of the feature is on the left; the "
        "preferred response is outlined.</p>",
    ]
    prompts = pairs["prompt"].to_list()
    ra, rb = pairs["response_A"].to_list(), pairs["response_B"].to_list()
    labels = pairs["label"].to_list()
    for row in table.iter_rows(named=True):
        j = int(row["feature"])
        parts.append(
            f"<h2>Feature {j}: {escape(str(row.get('label') or ''))}</h2>"
            f"<p>{escape(str(row.get('description') or ''))}</p><table><tr>"
            + "".join(f"<th>{escape(k)}</th>" for k in
                      ("coef", "95% CI", "q", "Δ win rate", "fidelity r", "kept"))
            + "</tr><tr>"
            f"<td>{_fmt(row.get('coef'))}</td>"
            f"<td>[{_fmt(row.get('ci_low'))}, {_fmt(row.get('ci_high'))}]</td>"
            f"<td>{_fmt(row.get('q'))}</td><td>{_fmt(row.get('delta_win_rate'))}</td>"
            f"<td>{_fmt(row.get('fidelity_r'))}</td><td>{_fmt(row.get('kept'))}</td>"
            "</tr></table>"
        )
        z = codes[:, j]
        for i in np.argsort(-np.abs(z))[:n_examples]:
            if z[i] == 0:
                break
            more, less = (ra[i], rb[i]) if z[i] > 0 else (rb[i], ra[i])
            lab = labels[i]
            more_won = lab is not None and (lab == 1) == (z[i] > 0)
            less_won = lab is not None and not more_won
            parts.append(
                f"<p class='prompt'>{escape(prompts[i])}</p><div class='pair'>"
                f"<div class='resp{' won' if more_won else ''}'>{escape(more)}</div>"
                f"<div class='resp{' won' if less_won else ''}'>{escape(less)}</div></div>"
            )
    return "\n".join(parts) + "\n"
