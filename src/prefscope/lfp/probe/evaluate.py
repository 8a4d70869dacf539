"""Fit and score the probe, and its controls: a random (Xavier) readout and the base model.

VADER runs fit a Ridge regression of the activation delta on the SAE-code deltas and score
per-word Kendall tau against the lexicon (within each valence sign and pooled); preference
runs fit a logistic probe of which response was chosen. The base model's deltas, taken
through the same SAEs on the same triples, say how much of the score the fine-tune explains.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prefscope.errors import InputError
from prefscope.lfp import controls, metrics
from prefscope.lfp.lexicon import lexicon_range
from prefscope.lfp.probe.probes import (
    ProbeConfig,
    SignPreservingScale,
    fit_logistic,
    fit_ridge,
    group_split,
    xavier_weights,
)


def vader_probe(x: np.ndarray, table: Any, cfg: ProbeConfig) -> tuple[dict[str, Any], Any, Any]:
    """Ridge probe + Xavier baseline; returns (metrics, per-input table, per-word table)."""
    import polars as pl

    words = table["word"].to_list()
    test = group_split(words, cfg.test_fraction, cfg.seed)
    train = ~test
    y = table["delta"].to_numpy()
    lo, hi = lexicon_range()

    ridge = fit_ridge(x[train], y[train], cfg.ridge_alpha)
    raw = ridge.predict(x)
    pred = SignPreservingScale(lo, hi, cfg.scale_quantile).fit(raw[train]).transform(raw)
    raw_base = x @ xavier_weights(x.shape[1], cfg.seed)
    base = SignPreservingScale(lo, hi, cfg.scale_quantile).fit(raw_base[train]).transform(raw_base)

    true = dict(zip(words, table["value"].to_list(), strict=True))
    test_words = [w for w, t in zip(words, test, strict=True) if t]
    pw = metrics.per_word_mean(test_words, pred[test])
    pw_base = metrics.per_word_mean(test_words, base[test])
    true_test = {w: true[w] for w in pw}
    resid = y[test] - raw[test]
    out = {
        "probe": "ridge",
        "alpha": cfg.ridge_alpha,
        "n_inputs": len(y),
        "n_train": int(train.sum()),
        "n_test": int(test.sum()),
        "n_test_words": len(pw),
        "kendall": metrics.kendall(pw, true_test),
        "baseline_kendall": metrics.kendall(pw_base, true_test),
        "sign_accuracy": metrics.sign_accuracy(pw, true_test),
        "baseline_sign_accuracy": metrics.sign_accuracy(pw_base, true_test),
        "negative_only_kendall": metrics.negative_only(pw, true_test),
        # pooled tau rewards the sign alone; these rank words inside a sign
        "within_sign_kendall": controls.within_sign(pw, true_test),
        "sign_only_baseline_kendall": controls.sign_only_baseline(true_test),
        "train_kendall": metrics.kendall(
            metrics.per_word_mean([w for w, t in zip(words, train, strict=True) if t], pred[train]),
            true,
        ),
        "delta_r2_test": float(
            1 - np.sum(resid**2) / max(np.sum((y[test] - y[test].mean()) ** 2), 1e-12)
        ),
        "lexicon_range": [lo, hi],
    }
    per_input = table.with_columns(
        pl.Series("split", np.where(test, "test", "train")),
        pl.Series("raw", raw),
        pl.Series("pred", pred),
        pl.Series("baseline", base),
    )
    per_word = pl.DataFrame(
        {
            "word": list(pw),
            "value": [true_test[w] for w in pw],
            "pred": [pw[w] for w in pw],
            "baseline": [pw_base[w] for w in pw],
            "n_inputs": [test_words.count(w) for w in pw],
        }
    ).sort("value")
    return out, per_input, per_word


def pair_probe(x: np.ndarray, table: Any, cfg: ProbeConfig) -> tuple[dict[str, Any], Any]:
    """Logistic probe chosen (1) vs rejected (0), split by pair."""
    import polars as pl

    groups = table["triple_id"].to_list()
    test = group_split(groups, cfg.test_fraction, cfg.seed)
    y = table["label"].to_numpy().astype(int)
    model = fit_logistic(x[~test], y[~test], cfg.logistic_c, cfg.seed)
    prob = model.predict_proba(x)[:, 1]
    hit = (prob >= 0.5).astype(int) == y
    out = {
        "probe": "logistic",
        "C": cfg.logistic_c,
        "n_inputs": len(y),
        "n_train": int((~test).sum()),
        "n_test": int(test.sum()),
        "accuracy_test": float(hit[test].mean()),
        "accuracy_train": float(hit[~test].mean()),
        "majority_baseline_test": float(max(y[test].mean(), 1 - y[test].mean())),
    }
    per_input = table.with_columns(
        pl.Series("split", np.where(test, "test", "train")),
        pl.Series("prob", prob),
    )
    return out, per_input


def base_model_vader(policy_words: Any, base_words: Any, cfg: ProbeConfig) -> dict[str, Any]:
    """τ(policy), τ(base) and paired-bootstrap differences: pooled and within each sign."""
    pred_p = dict(zip(policy_words["word"].to_list(), policy_words["pred"].to_list(), strict=True))
    pred_b = dict(zip(base_words["word"].to_list(), base_words["pred"].to_list(), strict=True))
    true = dict(zip(policy_words["word"].to_list(), policy_words["value"].to_list(), strict=True))
    kw = {"n_boot": cfg.n_boot, "seed": cfg.seed}
    out = {
        "kendall": controls.paired_tau_difference(pred_p, pred_b, true, **kw),
        "within_sign_kendall": {
            "positive": controls.paired_tau_difference(
                pred_p, pred_b, true, subset=lambda v: v > 0, **kw
            ),
            "negative": controls.paired_tau_difference(
                pred_p, pred_b, true, subset=lambda v: v < 0, **kw
            ),
        },
    }
    out["statement"] = " ".join(
        controls.attribution(d, what)
        for d, what in (
            (out["kendall"], "Pooled tau"),
            (out["within_sign_kendall"]["positive"], "Tau within positive words"),
            (out["within_sign_kendall"]["negative"], "Tau within negative words"),
        )
    )
    return out


def base_model_pairs(policy: Any, base: Any, cfg: ProbeConfig) -> dict[str, Any]:
    """Held-out logistic accuracy, policy vs base, paired over the same held-out pairs.

    A pair's chosen and rejected inputs are not independent, so the bootstrap resamples pairs
    (``triple_id``): each pair contributes the mean hit of its two inputs.
    """
    import polars as pl

    def hits(per_input: Any) -> Any:
        test = per_input.filter(pl.col("split") == "test")
        hit = ((pl.col("prob") >= 0.5).cast(pl.Int8) == pl.col("label")).cast(pl.Float64)
        return test.group_by("triple_id").agg(hit.mean().alias("hit"))

    joined = hits(policy).join(hits(base), on="triple_id", suffix="_base").sort("triple_id")
    diff = controls.paired_mean_difference(
        joined["hit"].to_list(), joined["hit_base"].to_list(), cfg.n_boot, cfg.seed
    )
    diff.update(
        accuracy_policy=float(joined["hit"].mean()) if joined.height else None,
        accuracy_base=float(joined["hit_base"].mean()) if joined.height else None,
        unit="held-out pair",
    )
    return {
        "accuracy_test": diff,
        "statement": controls.attribution(diff, "Held-out logistic accuracy"),
    }


def same_triples(table: Any, base_table: Any, path: str) -> None:
    """The control must see the same triples in the same order, else pairing is meaningless."""
    if table["triple_id"].to_list() != base_table["triple_id"].to_list():
        raise InputError(
            "base-model probe inputs hold other triples than the policy's", file=str(path)
        )
