"""Controls that could refute branch L's findings (issue: every finding with its control).

* **Within-sign τ and the sign-only baseline.** Pooled Kendall τ mixes positive and negative
  words, whose targets differ in sign by construction: a predictor that outputs only the
  sign of the lexicon value already scores a large τ. τ within positive words and within
  negative words measures ranking *inside* a sign, which the sign alone cannot give.
* **Base-model control.** The same recipe on the pre-RL base model; the paired bootstrap
  (same held-out words, same triples) of τ(policy) − τ(base) says whether a pattern is
  attributable to the fine-tune (CI excludes 0) or was already in the base model.
* **Firing-rate-matched random features.** Ablation and Table 7 compare relevant features
  with random *live* features of matched firing rate (frequent features fire on every input
  and move every output), over many independent draws, with empirical / permutation p.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from prefscope.lfp import metrics


def within_sign(pred: Mapping[str, float], true: Mapping[str, float]) -> dict[str, Any]:
    """Kendall τ (with n and p) within positive-valence words and within negative ones."""
    out = {}
    for name, keep in (("positive", lambda v: v > 0), ("negative", lambda v: v < 0)):
        sub = {w: v for w, v in true.items() if keep(v)}
        out[name] = metrics.kendall({w: v for w, v in pred.items() if w in sub}, sub)
    return out


def sign_only_baseline(true: Mapping[str, float]) -> dict[str, Any]:
    """Pooled τ of a predictor that outputs only ``sign(lexicon value)``: the bar to beat."""
    return metrics.kendall({w: float(np.sign(v)) for w, v in true.items()}, true)


def percentile_ci(samples: Sequence[float], level: float = 0.95) -> list[float | None]:
    """Percentile interval of bootstrap samples (NaNs, e.g. undefined τ, are dropped)."""
    arr = np.asarray([s for s in samples if s is not None], dtype=float)
    arr = arr[np.isfinite(arr)]
    if not arr.size:
        return [None, None]
    tail = 100 * (1 - level) / 2
    return [float(np.percentile(arr, tail)), float(np.percentile(arr, 100 - tail))]


def _tau(pred: np.ndarray, true: np.ndarray) -> float:
    from scipy.stats import kendalltau

    if pred.size < 2 or np.ptp(pred) == 0 or np.ptp(true) == 0:
        return float("nan")
    return float(kendalltau(pred, true).statistic)


def paired_tau_difference(
    policy: Mapping[str, float],
    base: Mapping[str, float],
    true: Mapping[str, float],
    n_boot: int,
    seed: int,
    subset: Callable[[float], bool] | None = None,
) -> dict[str, Any]:
    """τ(policy), τ(base) and their difference with a paired bootstrap CI over words.

    Each resample draws the same words (with replacement) for both models, so the CI is of
    the *paired* difference. ``subset`` keeps words by lexicon value (within-sign τ).
    """
    words = sorted(
        w for w in set(policy) & set(base) & set(true) if subset is None or subset(true[w])
    )
    p = np.array([policy[w] for w in words], dtype=float)
    b = np.array([base[w] for w in words], dtype=float)
    t = np.array([true[w] for w in words], dtype=float)
    tau_p, tau_b = _tau(p, t), _tau(b, t)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot if words else 0):
        i = rng.integers(0, len(words), size=len(words))
        diffs.append(_tau(p[i], t[i]) - _tau(b[i], t[i]))
    finite = lambda v: None if not np.isfinite(v) else float(v)  # noqa: E731
    diff = tau_p - tau_b
    return {
        "tau_policy": finite(tau_p),
        "tau_base": finite(tau_b),
        "difference": finite(diff),
        "ci95": percentile_ci(diffs),
        "n_words": len(words),
        "n_boot": n_boot,
    }


def paired_mean_difference(
    a: Sequence[float], b: Sequence[float], n_boot: int, seed: int
) -> dict[str, Any]:
    """mean(a − b) over paired items (same completion seed / same pair) with a bootstrap CI."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if not d.size:
        return {"difference": None, "ci95": [None, None], "n": 0, "n_boot": n_boot}
    rng = np.random.default_rng(seed)
    boots = [float(d[rng.integers(0, d.size, size=d.size)].mean()) for _ in range(n_boot)]
    return {
        "difference": float(d.mean()),
        "ci95": percentile_ci(boots),
        "n": int(d.size),
        "n_boot": n_boot,
    }


def ci_excludes_zero(ci: Sequence[float | None]) -> bool | None:
    lo, hi = ci
    if lo is None or hi is None:
        return None
    return bool(lo > 0 or hi < 0)


def attribution(difference: Mapping[str, Any], what: str) -> str:
    """One sentence: is ``what`` attributable to the fine-tune or already in the base model?"""
    lo, hi = difference["ci95"]
    if lo is None:
        return f"{what}: no policy - base difference could be computed."
    span = f"policy - base {difference['difference']:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]"
    if lo > 0:
        return f"{what} is attributable to the fine-tune ({span} excludes 0)."
    if hi < 0:
        return f"{what} is weaker after the fine-tune than in the base model ({span})."
    return (
        f"{what} did not change with the fine-tune ({span} contains 0): it is not attributable "
        "to RL; whatever of it there is was already in the base model."
    )


def live_features(rates: np.ndarray) -> np.ndarray:
    """Indices of features that fire at least once (dead features cannot be a control)."""
    return np.nonzero(np.asarray(rates) > 0)[0]


def matched_features(
    rates: np.ndarray, targets: Sequence[int], rng: np.random.Generator, pool: int
) -> list[int]:
    """One random live non-target feature per target, of nearest firing-rate quantile.

    Candidates are ranked by firing rate among live features; for each target, one is drawn
    at random from the ``pool`` candidates whose rank is closest to the target's rank (without
    replacement), so repeated draws differ while the firing-rate profile stays matched.
    """
    rates = np.asarray(rates, dtype=float)
    taken = {int(t) for t in targets}
    live = [int(i) for i in live_features(rates) if int(i) not in taken]
    if not live:
        return []
    order = np.argsort(rates[live], kind="stable")
    cand = np.asarray(live)[order]
    cand_rates = rates[cand]
    out: list[int] = []
    for target in targets:
        pos = int(np.searchsorted(cand_rates, rates[int(target)]))
        avail = [i for i in range(len(cand)) if int(cand[i]) not in taken]
        if not avail:
            break
        nearest = sorted(avail, key=lambda i: (abs(i - pos), i))[: max(1, pool)]
        pick = int(cand[int(rng.choice(nearest))])
        taken.add(pick)
        out.append(pick)
    return sorted(out)


def empirical_p(observed: float, null: Sequence[float], alternative: str = "less") -> float:
    """(1 + #null at least as extreme) / (1 + #null); ``less``: smaller is more extreme."""
    arr = np.asarray(null, dtype=float)
    if alternative == "less":
        hits = int(np.sum(arr <= observed))
    elif alternative == "greater":
        hits = int(np.sum(arr >= observed))
    else:
        centre = float(np.mean(arr)) if arr.size else 0.0
        hits = int(np.sum(np.abs(arr - centre) >= abs(observed - centre)))
    return (1 + hits) / (1 + arr.size)


def distribution(values: Sequence[float]) -> dict[str, Any]:
    """Mean and central 95% of a set of draws."""
    arr = np.asarray(values, dtype=float)
    if not arr.size:
        return {"mean": None, "q2.5": None, "q97.5": None, "n": 0}
    return {
        "mean": float(arr.mean()),
        "q2.5": float(np.percentile(arr, 2.5)),
        "q97.5": float(np.percentile(arr, 97.5)),
        "n": int(arr.size),
    }


def sign_flip_p(diffs: Sequence[float], n_perm: int, seed: int) -> float | None:
    """One-sided p that paired differences have mean > 0: permutation of the pair labels.

    Swapping the labels within a (relevant, matched) pair flips the sign of its difference;
    exact over all 2^k flips when k ≤ 14, else ``n_perm`` random flips.
    """
    d = np.asarray(diffs, dtype=float)
    if not d.size:
        return None
    observed = d.mean()
    if d.size <= 14:
        signs = ((np.arange(2**d.size)[:, None] >> np.arange(d.size)) & 1) * 2 - 1
        null = (signs * d).mean(axis=1)
        return float(np.mean(null >= observed - 1e-12))
    rng = np.random.default_rng(seed)
    null = (rng.choice([-1.0, 1.0], size=(n_perm, d.size)) * d).mean(axis=1)
    return float((1 + np.sum(null >= observed - 1e-12)) / (1 + n_perm))
