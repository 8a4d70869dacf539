"""Planted-concept recovery: does the workflow find the truth the demo planted?

For each planted concept, the best-matching SAE feature is the one whose signed activation
correlates most (in absolute value) with the concept's A-minus-B indicator. The concept's
label effect as seen by the workflow is that feature's controlled-logit coefficient, signed
by the direction of the match; the joint model's coefficient is reported beside it.

Two checks of what the SAE adds:

* **Baselines**: the same best-|correlation| match over PCA and ICA components (as many as
  SAE latents) of the same embedding differences. If PCA matched the concepts as well, the
  SAE would add nothing to recovery.
* **Description hit rate**: for each recovered concept (best |corr| >= :data:`RECOVERED_CORR`)
  does its feature's description name it, i.e. quote a word that only that concept's phrases
  (truth file, ``phrases``) use?
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl

from prefscope.interpret.lexical import STOPWORDS, parse_description, tokenize

log = logging.getLogger("prefscope.report")

#: |correlation| from which a concept counts as recovered by a feature / component.
RECOVERED_CORR = 0.5


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
        jcoef, jq = row.get("joint_coef"), row.get("joint_q")
        joint_effect = None if jcoef is None or jcoef != jcoef else float(jcoef) * direction
        joint_significant = bool(jq is not None and jq == jq and jq < fdr_q)
        record = {
            "concept": concept,
            "true_weight": weight,
            "best_feature": best,
            "correlation": float(r[best]),
            "feature_label": row.get("label"),
            "label_effect": effect,
            "q": None if q is None or q != q else float(q),
            "significant": significant,
            "tested": row.get("tested"),
            "joint_effect": joint_effect,
            "joint_q": None if jq is None or jq != jq else float(jq),
            "joint_significant": joint_significant,
        }
        if weight != 0:
            record["sign_recovered"] = bool(
                significant and effect is not None and np.sign(effect) == np.sign(weight)
            )
            record["joint_sign_recovered"] = bool(
                joint_significant
                and joint_effect is not None
                and np.sign(joint_effect) == np.sign(weight)
            )
        out.append(record)
    return out


def best_correlations(components: np.ndarray, concepts: pl.DataFrame, truth: dict) -> dict:
    """Best |correlation| of each concept's A-minus-B indicator over ``components`` columns."""
    comps = components.astype(float)
    return {
        c: float(np.abs(corr_columns(comps, concepts.get_column(f"{c}_delta").to_numpy())).max())
        for c in truth["concepts"]
    }


def baseline_components(deltas: np.ndarray, n_components: int, seed: int = 0) -> dict:
    """PCA and ICA components (scores per row) of the embedding differences."""
    from sklearn.decomposition import PCA, FastICA

    x = np.asarray(deltas, dtype=np.float64)
    k = min(n_components, x.shape[1], x.shape[0])
    out = {"pca": PCA(n_components=k, random_state=seed).fit_transform(x)}
    ica = FastICA(n_components=k, random_state=seed, whiten="unit-variance", max_iter=1000)
    out["ica"] = ica.fit_transform(x)
    return out


def concept_keywords(phrases: dict[str, list[str]]) -> dict[str, set[str]]:
    """Tokens (lexical tokenizer) that only one concept's phrases use, stopwords dropped."""
    tokens = {c: {t for p in ps for t in tokenize(p)} - STOPWORDS for c, ps in phrases.items()}
    return {
        c: toks - set().union(*(o for k, o in tokens.items() if k != c))
        for c, toks in tokens.items()
    }


def names_concept(description: str | None, keywords: set[str]) -> bool:
    """True when the description quotes (or, free text, contains) a keyword of the concept."""
    if not description:
        return False
    terms, _ = parse_description(description)
    words = {t for term in terms for t in term} if terms else set(tokenize(description))
    return bool(words & keywords)


def recovery_baselines(
    records: list[dict],
    codes: np.ndarray,
    deltas: np.ndarray,
    concepts: pl.DataFrame,
    truth: dict,
    features: pl.DataFrame,
) -> dict:
    """SAE vs PCA vs ICA best |correlation| per concept and the description hit rate; also
    adds ``pca_correlation``, ``ica_correlation``, ``recovered`` and ``description_names_
    concept`` to each record of :func:`planted_recovery` (in place)."""
    base = {
        name: best_correlations(comp, concepts, truth)
        for name, comp in baseline_components(deltas, codes.shape[1]).items()
    }
    keywords = concept_keywords(truth.get("phrases") or {})
    desc = dict(zip(features["feature"].to_list(), features["description"].to_list(),
                    strict=True)) if "description" in features.columns else {}  # fmt: skip
    hits = []
    for r in records:
        c = r["concept"]
        r["pca_correlation"], r["ica_correlation"] = base["pca"][c], base["ica"][c]
        r["recovered"] = abs(r["correlation"]) >= RECOVERED_CORR
        if r["recovered"] and c in keywords:
            r["description_names_concept"] = names_concept(desc.get(r["best_feature"]), keywords[c])
            hits.append(r["description_names_concept"])
    n_rec = {
        "sae": sum(abs(r["correlation"]) >= RECOVERED_CORR for r in records),
        "pca": sum(v >= RECOVERED_CORR for v in base["pca"].values()),
        "ica": sum(v >= RECOVERED_CORR for v in base["ica"].values()),
    }
    return {
        "recovered_corr": RECOVERED_CORR,
        "n_concepts": len(records),
        "n_recovered": n_rec,
        "mean_abs_correlation": {
            "sae": float(np.mean([abs(r["correlation"]) for r in records])),
            "pca": float(np.mean(list(base["pca"].values()))),
            "ica": float(np.mean(list(base["ica"].values()))),
        },
        "description_hit_rate": float(np.mean(hits)) if hits else None,
        "n_descriptions_checked": len(hits),
        "keywords": {c: sorted(k) for c, k in keywords.items()},
    }


def false_positives(records: list[dict]) -> dict:
    """Zero-weight concepts whose best feature is significant, per model (reported, so that a
    reader sees what the per-feature model claims and the joint model does not)."""
    zero = [r for r in records if r["true_weight"] == 0]
    weighted = [r for r in records if r["true_weight"] != 0]
    return {
        "per_feature": [r["concept"] for r in zero if r["significant"]],
        "joint": [r["concept"] for r in zero if r["joint_significant"]],
        "missed_per_feature": [r["concept"] for r in weighted if not r["sign_recovered"]],
        "missed_joint": [r["concept"] for r in weighted if not r["joint_sign_recovered"]],
    }
