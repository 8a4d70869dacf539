"""Fidelity scoring: Pearson r, Bonferroni, batching, labels."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from prefscope.errors import InputError
from prefscope.interpret.backend import PairText
from prefscope.interpret.fidelity import (
    annotate_batched,
    bonferroni_threshold,
    fidelity_table,
    pearson,
)
from prefscope.interpret.labels import short_label, shorten


def test_pearson_equals_scipy_and_skips_missing():
    z = np.array([2.0, -1.0, 0.5, -3.0, 1.0, 4.0, -0.2])
    ann = np.array([1.0, -1.0, 0.0, -1.0, np.nan, 1.0, 1.0])
    r, p, n_scored, n_missing = pearson(z, ann)
    ok = ~np.isnan(ann)
    expected = stats.pearsonr(z[ok], ann[ok])
    assert (r, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)
    assert r == pytest.approx(0.7898390788713273, rel=1e-9)
    assert (n_scored, n_missing) == (6, 1)


def test_pearson_degenerate_cases_are_r0_p1():
    z = np.array([1.0, -1.0, 2.0, -2.0])
    assert pearson(z, np.zeros(4)) == (0.0, 1.0, 4, 0)  # constant annotation
    assert pearson(np.ones(4), np.array([1.0, -1.0, 0.0, 1.0])) == (0.0, 1.0, 4, 0)
    assert pearson(z, np.array([1.0, -1.0, np.nan, np.nan])) == (0.0, 1.0, 2, 2)
    assert pearson(np.array([]), np.array([])) == (0.0, 1.0, 0, 0)


def test_bonferroni_threshold():
    assert bonferroni_threshold(0.05, 32) == pytest.approx(0.0015625)
    assert bonferroni_threshold(0.05, 0) == 0.05


class RecordingAnnotator:
    """Says +1 when A's text contains the concept word, -1 when B's does; records calls."""

    name = "recording"

    def __init__(self):
        self.calls: list[tuple[list[PairText], list[str]]] = []

    def annotate(self, pairs, concepts):
        self.calls.append((list(pairs), list(concepts)))
        out = np.zeros((len(pairs), len(concepts)))
        for i, p in enumerate(pairs):
            for j, c in enumerate(concepts):
                out[i, j] = (c in p.response_A) - (c in p.response_B)
                if c == "unknown":
                    out[i, j] = np.nan
        return out

    def usage(self):
        return {"backend": "recording", "calls": len(self.calls)}


def test_annotate_batched_groups_concepts_and_dedups():
    pairs = [PairText("p", "x y", "z"), PairText("p", "z", "x")]
    annotator = RecordingAnnotator()
    got = annotate_batched(annotator, pairs, ["x", "y", "x", "z", "w"], per_call=2)
    assert [c for _, c in annotator.calls] == [["x", "y"], ["z", "w"]]
    np.testing.assert_array_equal(got, [[1, 1, 1, -1, 0], [-1, 0, -1, 1, 0]])


def _table(n=80, seed=0):
    rng = np.random.default_rng(seed)
    has_a, has_b = rng.random(n) < 0.4, rng.random(n) < 0.4
    pairs = pl.DataFrame(
        {
            "pair_id": np.arange(n),
            "prompt": ["q"] * n,
            "response_A": ["alpha" if a else "plain" for a in has_a],
            "response_B": ["alpha" if b else "plain" for b in has_b],
            "split": ["val"] * n,
            "dedup": [True] * n,
        }
    )
    signal = (has_a.astype(float) - has_b) * (1 + rng.random(n))
    noise = rng.normal(size=n) * (rng.random(n) < 0.5)
    codes = np.stack([signal, noise, np.zeros(n)], axis=1)
    return pairs, codes


def test_fidelity_table_scores_same_sample_for_all_candidates():
    pairs, codes = _table()
    explanations = {
        "features": [
            {"feature": 0, "candidates": ["plain", "alpha", "unknown"]},
            {"feature": 1, "candidates": ["alpha"]},
            {"feature": 2, "candidates": []},
        ]
    }
    params = {"scoring_n_examples": 40, "concepts_per_call": 2, "max_words": 10, "seed": 0,
              "fidelity_alpha": 0.05}
    annotator = RecordingAnnotator()
    table = fidelity_table(pairs, codes, explanations, None, annotator, params)
    assert table.columns == ["feature", "description", "label", "fidelity_r", "fidelity_p",
                             "kept", "candidates", "candidate_r", "n_scored", "n_missing"]
    # feature 0: two calls (2 + 1 concepts) on the very same pairs
    first, second = annotator.calls[0], annotator.calls[1]
    assert first[1] == ["plain", "alpha"] and second[1] == ["unknown"]
    assert first[0] == second[0] and len(first[0]) == 40
    row = table.row(0, named=True)
    assert row["description"] == "alpha" and row["label"] == "alpha"
    r_plain, r_alpha, r_unknown = row["candidate_r"]
    assert r_alpha > 0.9 and r_plain < -0.9 and r_unknown == 0.0
    assert row["fidelity_r"] == r_alpha and row["kept"]
    assert (row["n_scored"], row["n_missing"]) == (40, 0)
    # the kept rule: r > 0 and p <= alpha / M (M = 3)
    for rec in table.iter_rows(named=True):
        expect = (rec["fidelity_r"] > 0) and (rec["fidelity_p"] <= 0.05 / 3)
        assert rec["kept"] == bool(expect)
    dead = table.row(2, named=True)
    assert math.isnan(dead["fidelity_r"]) and not dead["kept"] and dead["description"] == ""
    assert dead["candidates"] == [] and dead["candidate_r"] == [] and dead["label"] == ""


def test_bonferroni_separates_kept_from_nominally_significant():
    """A feature with alpha/M < p <= alpha is not kept."""
    pairs, codes = _table(n=60, seed=3)
    params = {"scoring_n_examples": 60, "concepts_per_call": 4, "max_words": 10, "seed": 0,
              "fidelity_alpha": 0.05}
    # column 0 is the clean signal; column 1 the signal blurred until p is about 0.02
    rng = np.random.default_rng(7)
    blurred = codes[:, 0] + rng.normal(scale=3.5, size=len(codes))
    codes = np.stack([codes[:, 0], blurred] + [np.zeros(len(codes))] * 8, axis=1)
    features = [{"feature": j, "candidates": ["alpha"] if j < 2 else []} for j in range(10)]
    table = fidelity_table(pairs, codes, {"features": features}, None, RecordingAnnotator(),
                           params)
    p_blur = table.row(1, named=True)["fidelity_p"]
    assert p_blur == pytest.approx(0.019283668296374342, rel=1e-9)
    assert 0.05 / 10 < p_blur <= 0.05
    assert table.get_column("kept").to_list()[:2] == [True, False]


def test_fidelity_table_checks_feature_count():
    pairs, codes = _table()
    with pytest.raises(InputError, match="2 features listed, the codes have 3"):
        fidelity_table(pairs, codes, {"features": [{"feature": 0}, {"feature": 1}]}, None,
                       RecordingAnnotator(), {"fidelity_alpha": 0.05})


def test_labels():
    assert shorten('uses the words "sorry", "apologize", "my apologies", "regret"') == (
        "sorry / apologize / my apologies"
    )
    assert shorten('uses fewer of the terms "**" (markdown bold)') == "fewer: **"
    assert shorten("Responds with a bulleted list of concrete, actionable steps.") == (
        "Responds with a bulleted list of…"
    )
    assert shorten("") == ""

    class WithLabel:
        def short_label(self, description):
            return "apology"

    assert short_label('uses the words "sorry"', WithLabel()) == "apology"
    assert short_label('uses the words "sorry"', object()) == "sorry"
    assert short_label("", WithLabel()) == ""
