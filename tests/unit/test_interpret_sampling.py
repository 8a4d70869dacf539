"""Which pairs the backends see: percentile bins, seeds, orientation, truncation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from prefscope.interpret.backend import PairText
from prefscope.interpret.explain import oriented_examples
from prefscope.interpret.sampling import (
    pair_text,
    sample_examples,
    sample_scoring,
    top_bin_rows,
    truncate_words,
)


def test_truncate_keeps_layout_and_left_truncates_prompts():
    text = "Intro:\n- one two\n- three four\n"
    assert truncate_words(text, 3) == "Intro:\n- one"
    assert truncate_words(text, 100) == text
    assert truncate_words("a b c d e", 2, keep_end=True) == "d e"
    assert truncate_words("a b", 0) == ""


def test_swap_is_on_fields_and_keeps_quotes_intact():
    b = 'She said "no", then "maybe" -- RESPONSE A: "x"'
    a = "A plain answer."
    swapped = pair_text("Prompt with \"quotes\"", a, b, max_words=50, swap=True)
    assert swapped == PairText('Prompt with "quotes"', b, a)
    assert pair_text("p", a, b, max_words=50) == PairText("p", a, b)


def test_oriented_examples_swap_only_negative_rows():
    pairs = pl.DataFrame(
        {
            "prompt": ["p0", "p1", "p2"],
            "response_A": ['a0 "q"', "a1", "a2"],
            "response_B": ["b0", 'b1 "said" it', "b2"],
        }
    )
    got = oriented_examples(pairs, np.array([0, 1, 2]), np.array([2.0, -1.5, 0.3]), 10)
    assert got == [
        PairText("p0", 'a0 "q"', "b0"),
        PairText("p1", 'b1 "said" it', "a1"),
        PairText("p2", "a2", "b2"),
    ]


Z = np.array([0, 0, -10, 1, 2, 3, -4, 5, 6, 7, 8, 9, 0, -0.5], dtype=float)


def test_top_bin_uses_nonzero_magnitudes():
    # nonzero |z| = 10,1,2,3,4,5,6,7,8,9,0.5 -> 80th pct 8.0, 100th 10
    assert top_bin_rows(Z, [80, 100]).tolist() == [2, 10, 11]
    assert top_bin_rows(Z, [0, 10]).tolist() == [3, 13]
    # percentiles are over the pool: nonzero |z| in it = 1, 8, 9 -> 80th pct 8.6
    assert top_bin_rows(Z, [80, 100], pool=np.array([0, 1, 3, 10, 11])).tolist() == [11]
    assert top_bin_rows(np.zeros(4), [90, 100]).tolist() == []
    with pytest.raises(ValueError, match="percentile"):
        top_bin_rows(Z, [90, 80])


def test_example_sampler_stays_in_bin_and_is_seeded_per_candidate():
    rng = np.random.default_rng(1)
    z = rng.normal(size=2000) * (rng.random(2000) < 0.5)
    in_bin = set(top_bin_rows(z, [90, 100]).tolist())
    nonzero = np.abs(z[z != 0])
    assert in_bin == set(np.flatnonzero(np.abs(z) >= np.percentile(nonzero, 90)).tolist())
    assert len(in_bin) == 102 == int(np.ceil(0.1 * len(nonzero)))
    draws = [sample_examples(z, 10, [90, 100], seed=0, feature=3, candidate=c) for c in range(3)]
    for s in draws:
        assert len(s) == 10 and set(s.rows.tolist()) <= in_bin
        np.testing.assert_array_equal(s.z, z[s.rows])
    again = sample_examples(z, 10, [90, 100], seed=0, feature=3, candidate=1)
    np.testing.assert_array_equal(again.rows, draws[1].rows)
    assert draws[0].rows.tolist() != draws[1].rows.tolist() != draws[2].rows.tolist()
    other_feature = sample_examples(z, 10, [90, 100], seed=0, feature=4, candidate=1)
    assert other_feature.rows.tolist() != draws[1].rows.tolist()
    # fewer rows in the bin than asked for: take them all
    assert sample_examples(Z, 10, [80, 100], seed=0, feature=0, candidate=0).rows.tolist() == [
        2, 10, 11,
    ]


def test_scoring_sampler_halves_around_signed_median():
    z = np.array([0.0] * 10 + list(range(-20, 0)) + list(range(1, 21)), dtype=float)
    s = sample_scoring(z, 10, seed=0, feature=5)
    median = np.percentile(z[z != 0], 50)  # 0 -> high = positives, low = negatives
    assert median == 0.0
    assert (s.z > 0).sum() == 5 and (s.z < 0).sum() == 5
    np.testing.assert_array_equal(s.z, z[s.rows])
    assert s.rows.tolist() == sorted(s.rows.tolist())
    np.testing.assert_array_equal(sample_scoring(z, 10, seed=0, feature=5).rows, s.rows)
    with_zero = sample_scoring(z, 10, seed=0, feature=5, zero_fraction=0.2)
    assert ((with_zero.z == 0).sum(), (with_zero.z > 0).sum(), (with_zero.z < 0).sum()) == (
        2, 4, 4,
    )


def test_scoring_sampler_tops_up_a_short_bin_and_respects_pool():
    z = np.array([1.0, 1, 1, 1, 1, 2, 0])  # ties at the median: the low bin is empty
    s = sample_scoring(z, 4, seed=0, feature=0)
    assert len(s) == 4 and (s.z >= 1).all()
    everything = sample_scoring(z, 100, seed=0, feature=0)
    assert everything.rows.tolist() == [0, 1, 2, 3, 4, 5]
    pooled = sample_scoring(z, 100, seed=0, feature=0, pool=np.array([0, 5, 6]))
    assert pooled.rows.tolist() == [0, 5]
    assert len(sample_scoring(np.zeros(5), 4, seed=0, feature=0)) == 0
