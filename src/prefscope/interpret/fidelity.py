"""How faithful is each candidate description? (branch W, "Fidelity"; stage:
:func:`prefscope.interpret.stage.fidelity`)

Per feature, one held-out sample of ``scoring_n_examples`` VAL-split deduplicated pairs
(half above, half below the signed median of the nonzero activations; see
:func:`prefscope.interpret.sampling.sample_scoring`) is annotated by the annotator for every
candidate description: +1 if the concept is more present in A, -1 if in B, 0 for a tie.
Pairs keep their original orientation, so the annotation should track the *signed*
activation: fidelity is Pearson r between the two, with its p-value. Several candidates go
into one ``annotate()`` call (``concepts_per_call``) to cut LLM calls, and identical
candidates are annotated once.

The best candidate is the one with the highest r. A feature is *kept* when r > 0 and
p <= fidelity_alpha / M (Bonferroni over the M features). Features with no candidates (never
firing on the train rows) get NaN r and p; a degenerate sample (fewer than three annotated
pairs, or a constant vector) gets r = 0 and p = 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from tqdm.auto import tqdm

from prefscope.errors import InputError
from prefscope.interpret.explain import pool
from prefscope.interpret.labels import short_label
from prefscope.interpret.sampling import pair_text, sample_scoring

TABLE_SCHEMA = {
    "feature": pl.Int64,
    "description": pl.String,
    "label": pl.String,
    "fidelity_r": pl.Float64,
    "fidelity_p": pl.Float64,
    "kept": pl.Boolean,
    "candidates": pl.List(pl.String),
    "candidate_r": pl.List(pl.Float64),
    "n_scored": pl.Int64,
    "n_missing": pl.Int64,
}


def pearson(z: np.ndarray, annotation: np.ndarray) -> tuple[float, float, int, int]:
    """(r, p, n_scored, n_missing) over the pairs the annotator labelled (non-NaN).

    Degenerate inputs (fewer than 3 labelled pairs, or either vector constant) give
    r = 0, p = 1: such a description explains nothing measurable.
    """
    z = np.asarray(z, dtype=np.float64)
    annotation = np.asarray(annotation, dtype=np.float64)
    ok = ~np.isnan(annotation)
    n_scored, n_missing = int(ok.sum()), int((~ok).sum())
    zs, ys = z[ok], annotation[ok]
    if n_scored < 3 or np.ptp(zs) == 0 or np.ptp(ys) == 0:
        return 0.0, 1.0, n_scored, n_missing
    result = stats.pearsonr(zs, ys)
    return float(result.statistic), float(result.pvalue), n_scored, n_missing


def bonferroni_threshold(alpha: float, n_features: int) -> float:
    """Per-feature p-value threshold that holds the family-wise error at ``alpha``."""
    return float(alpha) / max(1, int(n_features))


def annotate_batched(
    annotator: Any, pairs: Sequence[Any], concepts: Sequence[str], per_call: int
) -> np.ndarray:
    """Annotations ``[len(pairs), len(concepts)]``, ``per_call`` concepts per call.

    Repeated concepts are annotated once and copied (two candidates often coincide).
    """
    unique = list(dict.fromkeys(concepts))
    out = np.full((len(pairs), len(unique)), np.nan)
    step = max(1, int(per_call))
    for start in range(0, len(unique), step):
        chunk = unique[start : start + step]
        got = np.asarray(annotator.annotate(pairs, chunk), dtype=np.float64)
        if got.shape != (len(pairs), len(chunk)):
            raise RuntimeError(
                f"annotator {annotator.name!r} returned shape {got.shape}, "
                f"expected {(len(pairs), len(chunk))}"
            )
        out[:, start : start + len(chunk)] = got
    index = {c: i for i, c in enumerate(unique)}
    return out[:, [index[c] for c in concepts]]


def score_feature(
    pairs: pl.DataFrame,
    z: np.ndarray,
    candidates: Sequence[str],
    annotator: Any,
    *,
    feature: int,
    val_rows: np.ndarray,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Score every candidate of one feature on one shared held-out sample."""
    if not candidates:
        return {
            "description": "",
            "fidelity_r": math.nan,
            "fidelity_p": math.nan,
            "candidate_r": [],
            "n_scored": 0,
            "n_missing": 0,
        }
    sample = sample_scoring(
        z,
        int(params["scoring_n_examples"]),
        seed=int(params["seed"]),
        feature=feature,
        pool=val_rows,
        zero_fraction=float(params.get("scoring_zero_fraction", 0.0)),
    )
    max_words = int(params["max_words"])
    sub = pairs[sample.rows].select("prompt", "response_A", "response_B")
    texts = [pair_text(p, a, b, max_words=max_words) for p, a, b in sub.iter_rows()]
    if texts:
        ann = annotate_batched(annotator, texts, candidates, int(params["concepts_per_call"]))
    else:
        ann = np.full((0, len(candidates)), np.nan)
    scored = [pearson(sample.z, ann[:, c]) for c in range(len(candidates))]
    best = int(np.argmax([s[0] for s in scored]))  # first of equals
    r, p, n_scored, n_missing = scored[best]
    return {
        "description": candidates[best],
        "fidelity_r": r,
        "fidelity_p": p,
        "candidate_r": [s[0] for s in scored],
        "n_scored": n_scored,
        "n_missing": n_missing,
    }


def fidelity_table(
    pairs: pl.DataFrame,
    codes: np.ndarray,
    explanations: dict[str, Any],
    describer: Any,
    annotator: Any,
    params: dict[str, Any],
    source: str = "explanations.json",
) -> pl.DataFrame:
    """The fidelity table, one row per feature (columns: :data:`TABLE_SCHEMA`)."""
    features = explanations.get("features")
    n_features = codes.shape[1]
    if not isinstance(features, list) or len(features) != n_features:
        found = len(features) if isinstance(features, list) else "no"
        raise InputError(f"{found} features listed, the codes have {n_features}", file=source)
    val_rows = pool(pairs, "val")
    if len(val_rows) == 0:
        raise InputError("no deduplicated val rows to score descriptions on", column="split")
    threshold = bonferroni_threshold(float(params["fidelity_alpha"]), n_features)
    rows = []
    for j, record in enumerate(tqdm(features, desc="fidelity", unit="feature")):
        if int(record.get("feature", -1)) != j:
            raise InputError(f"feature {j} is listed as {record.get('feature')!r}", file=source)
        candidates = [str(c) for c in record.get("candidates", [])]
        row = score_feature(
            pairs, codes[:, j], candidates, annotator, feature=j, val_rows=val_rows, params=params
        )
        row["kept"] = bool(row["fidelity_r"] > 0 and row["fidelity_p"] <= threshold)
        row["label"] = short_label(row["description"], describer)
        rows.append({"feature": j, "candidates": candidates, **row})
    return pl.DataFrame(rows, schema=TABLE_SCHEMA).select(list(TABLE_SCHEMA))
