"""Which pairs a backend sees, and which way round.

Two samples per feature, both drawn from signed activations ``z`` of one feature:

* **examples** for describing it: pairs whose ``|z|`` lies in a percentile bin of the
  *nonzero* ``|z|`` (WIMHF's top-percentile sampling), one independent draw per candidate so
  that candidates differ by what they were shown, each pair oriented so that response A has
  more of the feature;
* **scoring** pairs for fidelity: held-out pairs, half from the upper and half from the lower
  half of the *signed* nonzero activations, left in their original orientation (fidelity
  correlates the annotation with the signed activation).

Orientation swaps the structured fields; the reference swapped A and B with a regex over a
rendered string and garbled every pair whose response B contained a double quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prefscope.interpret.backend import PairText

# Stream tags keep the example and the scoring draws of one feature independent.
_EXAMPLES_STREAM = 0
_SCORING_STREAM = 1

_WORD = re.compile(r"\S+")


def rng_for(seed: int, stream: int, *keys: int) -> np.random.Generator:
    """A generator determined by (seed, stream, keys): same inputs, same draw, on any machine."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), stream, *map(int, keys)]))


def derived_seed(seed: int, *keys: int) -> int:
    """A 31-bit integer seed for a backend call, derived from the run seed and keys."""
    state = np.random.SeedSequence([int(seed), 2, *map(int, keys)]).generate_state(1)[0]
    return int(state) & 0x7FFFFFFF


def truncate_words(text: str, max_words: int, *, keep_end: bool = False) -> str:
    """Keep ``max_words`` whitespace-separated words, preserving the text between them.

    Newlines and indentation survive (a bulleted list stays a list). ``keep_end`` keeps the
    last words instead of the first: prompts are left-truncated because the end of a long
    conversation is what the responses answer.
    """
    if max_words <= 0:
        return ""
    spans = [m.span() for m in _WORD.finditer(text)]
    if len(spans) <= max_words:
        return text
    if keep_end:
        return text[spans[-max_words][0] :]
    return text[: spans[max_words - 1][1]]


def pair_text(
    prompt: str, response_a: str, response_b: str, *, max_words: int, swap: bool = False
) -> PairText:
    """A truncated :class:`PairText`; ``swap`` exchanges the two responses (never the prompt)."""
    if swap:
        response_a, response_b = response_b, response_a
    return PairText(
        prompt=truncate_words(prompt, max_words, keep_end=True),
        response_A=truncate_words(response_a, max_words),
        response_B=truncate_words(response_b, max_words),
    )


@dataclass(frozen=True)
class Sample:
    """Positions of sampled rows (into the table given to the sampler) and their activations."""

    rows: np.ndarray  # int64 positions
    z: np.ndarray  # float64 signed activations of those rows

    def __len__(self) -> int:
        return len(self.rows)


def _as_pool(z: np.ndarray, pool: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 1:
        raise ValueError(f"activations must be one-dimensional, got shape {z.shape}")
    rows = np.arange(len(z)) if pool is None else np.asarray(pool, dtype=np.int64)
    return rows, z[rows]


def top_bin_rows(
    z: np.ndarray, percentile: Sequence[float], pool: np.ndarray | None = None
) -> np.ndarray:
    """Rows of ``pool`` whose ``|z|`` lies in ``[P_lo, P_hi]`` of the pool's nonzero ``|z|``."""
    rows, zp = _as_pool(z, pool)
    lo_q, hi_q = float(percentile[0]), float(percentile[1])
    if not 0 <= lo_q <= hi_q <= 100:
        raise ValueError(f"percentile bin must satisfy 0 <= lo <= hi <= 100, got {percentile}")
    mag = np.abs(zp)
    nonzero = mag > 0
    if not nonzero.any():
        return rows[:0]
    lo, hi = np.percentile(mag[nonzero], [lo_q, hi_q])
    return rows[nonzero & (mag >= lo) & (mag <= hi)]


def sample_examples(
    z: np.ndarray,
    n: int,
    percentile: Sequence[float],
    *,
    seed: int,
    feature: int,
    candidate: int,
    pool: np.ndarray | None = None,
) -> Sample:
    """Draw up to ``n`` rows from the top-percentile bin, seeded per (feature, candidate).

    Rows come back sorted so a sample reads in table order; the draw itself is random.
    """
    in_bin = top_bin_rows(z, percentile, pool)
    rng = rng_for(seed, _EXAMPLES_STREAM, feature, candidate)
    take = min(int(n), len(in_bin))
    rows = np.sort(rng.choice(in_bin, size=take, replace=False)) if take else in_bin[:0]
    return Sample(rows=rows.astype(np.int64), z=np.asarray(z, dtype=np.float64)[rows])


def sample_scoring(
    z: np.ndarray,
    n: int,
    *,
    seed: int,
    feature: int,
    pool: np.ndarray | None = None,
    zero_fraction: float = 0.0,
) -> Sample:
    """Held-out pairs for fidelity: half from above, half from below the signed median.

    Bins follow WIMHF: "high" = 50th-100th, "low" = 0th-50th percentile of the pool's signed
    nonzero activations. With signed features this mostly contrasts pairs where A has the
    feature with pairs where B has it. A bin short of rows is topped up from the other one;
    ``zero_fraction`` of ``n`` may be drawn from rows where the feature is silent (these test
    that the description does not also fire when the feature does not).
    """
    rows, zp = _as_pool(z, pool)
    rng = rng_for(seed, _SCORING_STREAM, feature)
    n = int(n)
    n_zero = min(round(n * float(zero_fraction)), int((zp == 0).sum()))
    nonzero = zp != 0
    chosen: list[np.ndarray] = []
    if nonzero.any():
        median = np.percentile(zp[nonzero], 50)
        high = rows[nonzero & (zp >= median)]
        low = rows[nonzero & (zp < median)]
        n_nonzero = n - n_zero
        n_high = min(len(high), n_nonzero - n_nonzero // 2)
        n_low = min(len(low), n_nonzero - n_high)
        n_high = min(len(high), n_nonzero - n_low)  # top up the high bin if low was short
        chosen += [rng.choice(high, n_high, replace=False), rng.choice(low, n_low, replace=False)]
    if n_zero:
        chosen.append(rng.choice(rows[~nonzero], n_zero, replace=False))
    picked = np.sort(np.concatenate(chosen)) if chosen else rows[:0]
    picked = picked.astype(np.int64)
    return Sample(rows=picked, z=np.asarray(z, dtype=np.float64)[picked])
