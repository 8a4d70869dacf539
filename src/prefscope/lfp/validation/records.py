"""Probe validation: explain the overlapping features, judge relevance, and the paper's Table 7.

Explanations use the *feature activations* of the small SAE at the hook point it was trained
on (the harvested MLP outputs) — not reconstruction coordinates, not another hook, and for
every chosen layer (the reference explained reconstruction coordinates of layer 1 only).
Per feature: texts are ranked by their maximum activation; the top ``2 × n_examples`` with a
non-zero maximum alternate between the explanation set and the scoring set, and
``n_random`` random texts are added to the scoring set (Bills et al.: top + random), so the
simulation score also penalises an explanation that fires everywhere. Sub-word tokens are
joined into whitespace-delimited words at their highest level before explaining and
simulating, so explanations name words, not BPE fragments.

Table 7: among probe inputs whose prediction is high (VADER: rescaled Δ > ``high_delta``;
preference pairs: P(chosen) ≥ ``high_prob``), how often the relevant features fire (> 0),
against how often the average dictionary feature fires — and, as the control, against
firing-rate-matched non-relevant features with a permutation p (``matched_table7``). All
inputs (train and test) count: this validates features, not the probe's generalisation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from prefscope.lfp.validation.explain import Record, TokenInterp, discretise

log = logging.getLogger(__name__)


def text_tokens(token_ids: np.ndarray, seq: np.ndarray, tokenizer: Any) -> dict[int, list[str]]:
    """Decoded token strings per text, in position order (harvest rows are in that order)."""
    vocab: dict[int, str] = {}
    out: dict[int, list[str]] = {}
    for tid, s in zip(token_ids.tolist(), seq.tolist(), strict=True):
        if tid not in vocab:
            vocab[tid] = tokenizer.decode([tid])
        out.setdefault(s, []).append(vocab[tid])
    return out


def merge_subtokens(record: Record) -> Record:
    """Join sub-word tokens into whitespace-delimited words, each at its highest level.

    A token that does not start with whitespace continues the previous word (byte-level
    BPE marks word starts with a leading space). Explaining words rather than fragments
    matters most for small vocabularies, where most lexicon words span several tokens.
    """
    out: Record = []
    for token, level in record:
        if out and token and not token[0].isspace():
            word, best = out[-1]
            out[-1] = (word + token, max(best, level))
        else:
            out.append((token, level))
    return out


def feature_records(
    levels: np.ndarray,
    acts: np.ndarray,
    seq: np.ndarray,
    tokens: dict[int, list[str]],
    n_examples: int,
    n_random: int,
    rng: np.random.Generator,
) -> tuple[list[Record], list[Record]]:
    """(explanation records, scoring records) for one feature, as described above."""
    texts = np.unique(seq)
    per_text_max = np.full(texts.max() + 1, -np.inf)
    np.maximum.at(per_text_max, seq, acts)
    order = [
        int(t)
        for t in texts[np.argsort(-per_text_max[texts], kind="stable")]
        if per_text_max[t] > 0
    ][: 2 * n_examples]
    explain_ids, score_ids = order[0::2], order[1::2]
    rest = [int(t) for t in texts if int(t) not in set(order)]
    if rest and n_random:
        score_ids += rng.choice(rest, size=min(n_random, len(rest)), replace=False).tolist()

    def record(t: int) -> Record:
        sel = seq == t
        return merge_subtokens(list(zip(tokens[t], levels[sel].tolist(), strict=True)))

    return [record(t) for t in explain_ids], [record(t) for t in score_ids]


def explain_features(
    interp: TokenInterp,
    codes: np.ndarray,
    seq: np.ndarray,
    tokens: dict[int, list[str]],
    features: Sequence[dict[str, Any]],
    task_description: str,
    n_examples: int,
    n_random: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Explanation, simulation score and relevance for each overlapping feature of one layer."""
    rng = np.random.default_rng(seed)
    out = []
    for feat in features:
        acts = codes[:, feat["small"]]
        fmax = float(acts.max()) if acts.size else 0.0
        levels = discretise(acts, fmax)
        explain_recs, score_recs = feature_records(
            levels, acts, seq, tokens, n_examples, n_random, rng
        )
        explanation = interp.explain_tokens(interp.backend, explain_recs)
        sim = interp.simulate(interp.backend, explanation, [[t for t, _ in r] for r in score_recs])
        score = interp.simulation_score(sim, [[lv for _, lv in r] for r in score_recs])
        out.append(
            {
                **feat,
                "max_activation": fmax,
                "firing_rate": float(np.mean(acts > 0)) if acts.size else 0.0,
                "explanation": explanation,
                "simulation_score": float(score),
                "relevant": bool(interp.relevance(interp.backend, explanation, task_description)),
                # the texts the explanation was written from: [word, level 0-10] per word
                "top_contexts": [[[w, int(lv)] for w, lv in r] for r in explain_recs],
            }
        )
    return out


def firing_frequencies(
    x: np.ndarray, high: np.ndarray, relevant_columns: Sequence[int]
) -> dict[str, Any]:
    """Table 7: firing rate of relevant features vs all features, on high / other inputs."""
    cols = np.asarray(sorted(set(int(c) for c in relevant_columns)), dtype=int)

    def rate(rows: np.ndarray, columns: np.ndarray | None) -> float | None:
        sub = x[rows] if columns is None else x[rows][:, columns]
        return float(np.mean(sub > 0)) if sub.size else None

    return {
        "n_high_inputs": int(high.sum()),
        "n_other_inputs": int((~high).sum()),
        "n_relevant_features": int(cols.size),
        "relevant_feature_high": rate(high, cols) if cols.size else None,
        "average_feature_high": rate(high, None),
        "relevant_feature_other": rate(~high, cols) if cols.size else None,
        "average_feature_other": rate(~high, None),
    }


def matched_table7(
    x: np.ndarray,
    high: np.ndarray,
    relevant_columns: Sequence[int],
    pool: int,
    n_perm: int,
    seed: int,
) -> dict[str, Any]:
    """Table-7 control: relevant features vs firing-rate-matched non-relevant live features.

    Each relevant column is paired with a non-relevant column that fires on about as many
    inputs overall (``controls.matched_features``); the statistic is the mean, over pairs, of
    (relevant − matched) firing rate on the high inputs, and p is a one-sided permutation test
    that swaps the labels within pairs. A relevant feature that only fires often everywhere
    does not beat its match.
    """
    from prefscope.lfp import controls

    cols = sorted(set(int(c) for c in relevant_columns))
    if not cols or not high.any():
        return {
            "n_pairs": 0,
            "relevant_high": None,
            "matched_high": None,
            "difference": None,
            "p": None,
        }
    overall = np.mean(x > 0, axis=0)
    matched = controls.matched_features(overall, cols, np.random.default_rng(seed), pool)
    pairs = list(zip(cols, matched, strict=False))
    high_rate = np.mean(x[high] > 0, axis=0)
    diffs = [float(high_rate[r] - high_rate[m]) for r, m in pairs]
    return {
        "n_pairs": len(pairs),
        "matched_features": [m for _, m in pairs],
        "relevant_rate_overall": float(np.mean([overall[r] for r, _ in pairs])),
        "matched_rate_overall": float(np.mean([overall[m] for _, m in pairs])),
        "relevant_high": float(np.mean([high_rate[r] for r, _ in pairs])),
        "matched_high": float(np.mean([high_rate[m] for _, m in pairs])),
        "difference": float(np.mean(diffs)),
        "p": controls.sign_flip_p(diffs, n_perm, seed),
        "test": "one-sided paired permutation (label swaps within pairs)",
    }


def high_inputs(predictions: Any, task: str, params: dict[str, Any]) -> np.ndarray:
    if task == "vader":
        return predictions["pred"].to_numpy() > params["high_delta"]
    return predictions["prob"].to_numpy() >= params["high_prob"]
