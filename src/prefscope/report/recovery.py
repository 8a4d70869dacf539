"""Planted-concept recovery: does the workflow find the truth the demo planted?

For each planted concept, the best-matching SAE feature is the one whose signed activation
correlates most (in absolute value) with the concept's A-minus-B indicator. The concept's
label effect as seen by the workflow is that feature's controlled-logit coefficient, signed
by the direction of the match.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def corr_columns(codes: np.ndarray, target: np.ndarray) -> np.ndarray:
    zc = codes - codes.mean(axis=0)
    tc = target - target.mean()
    denom = np.sqrt((zc**2).sum(axis=0) * (tc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (zc * tc[:, None]).sum(axis=0) / denom
    return np.nan_to_num(r)


def planted_recovery(
    codes: np.ndarray,
    concepts: pl.DataFrame,
    truth: dict,
    features: pl.DataFrame,
    fdr_q: float,
) -> list[dict]:
    """One record per planted concept (see module docstring)."""
    by_feature = {row["feature"]: row for row in features.iter_rows(named=True)}
    out = []
    for concept in truth["concepts"]:
        weight = float(truth["weights"][concept])
        target = concepts.get_column(f"{concept}_delta").to_numpy().astype(float)
        r = corr_columns(codes.astype(float), target)
        best = int(np.argmax(np.abs(r)))
        row = by_feature.get(best, {})
        direction = float(np.sign(r[best])) or 1.0
        coef = row.get("coef")
        effect = None if coef is None or coef != coef else float(coef) * direction
        q = row.get("q")
        significant = bool(q is not None and q == q and q < fdr_q)
        record = {
            "concept": concept,
            "true_weight": weight,
            "best_feature": best,
            "correlation": float(r[best]),
            "feature_label": row.get("label"),
            "label_effect": effect,
            "q": None if q is None or q != q else float(q),
            "significant": significant,
        }
        if weight != 0:
            record["sign_recovered"] = bool(
                significant and effect is not None and np.sign(effect) == np.sign(weight)
            )
        out.append(record)
    return out
