"""Offline explainer, simulator and relevance judge on a hand-made feature."""

from __future__ import annotations

import numpy as np
import pytest

from prefscope.lfp.validation.explain import (
    LexicalTokenBackend,
    discretise,
    explain_tokens,
    explanation_tokens,
    relevance,
    simulate,
    simulation_score,
    vader_task_words,
)
from prefscope.lfp.validation.records import (
    feature_records,
    firing_frequencies,
    merge_subtokens,
)

RECORDS = [
    [("The", 0), (" movie", 1), (" was", 0), (" great", 10)],
    [("A", 0), (" superb", 8), (" cast", 0)],
    [("Great", 9), (" fun", 2)],
]


def test_discretise_by_dataset_max():
    acts = np.array([-1.0, 0.0, 0.26, 1.3, 2.6])
    assert discretise(acts, 2.6).tolist() == [0, 0, 1, 5, 10]
    assert discretise(acts, 0.0).tolist() == [0, 0, 0, 0, 0]


def test_explainer_names_top_tokens_and_simulator_uses_them():
    backend = LexicalTokenBackend(task_words=vader_task_words(1.0), n_tokens=2)
    explanation = explain_tokens(backend, RECORDS)
    assert explanation == 'fires on "great", "superb"'
    assert explanation_tokens(explanation) == ["great", "superb"]
    sim = simulate(backend, explanation, [["The", " great", " plot"], ["superb"]])
    assert sim == [[0.0, 10.0, 0.0], [10.0]]
    assert simulation_score(sim, [[0, 9, 1], [7]]) == pytest.approx(
        np.corrcoef([0, 10, 0, 10], [0, 9, 1, 7])[0, 1]
    )
    assert relevance(backend, explanation, "positive sentiment") is True
    assert relevance(backend, 'fires on "movie", "cast", "great"', "x") is False
    assert relevance(backend, "fires on no specific token", "x") is False


def test_feature_records_split_top_texts():
    seq = np.array([0, 0, 1, 1, 2, 3])
    acts = np.array([0.0, 5.0, 1.0, 0.0, 3.0, 0.0])
    levels = discretise(acts, 5.0)
    tokens = {0: ["a", " b"], 1: ["c", " d"], 2: ["e"], 3: ["f"]}
    explain, score = feature_records(levels, acts, seq, tokens, 2, 1, np.random.default_rng(0))
    # ranking by max: text 0 (5), text 2 (3), text 1 (1); text 3 never fires
    assert explain == [[("a", 0), (" b", 10)], [("c", 2), (" d", 0)]]
    assert score == [[("e", 6)], [("f", 0)]]


def test_subtokens_merge_into_words_at_their_highest_level():
    record = [("The", 0), (" terr", 3), ("ible", 9), (" plot", 1), (".", 0)]
    assert merge_subtokens(record) == [("The", 0), (" terrible", 9), (" plot.", 1)]


def test_firing_frequencies_table7():
    x = np.array([[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.0, 3.0, 0.0, 0.0]])
    high = np.array([True, True, False])
    freq = firing_frequencies(x, high, [2, 0])
    assert freq["relevant_feature_high"] == pytest.approx(3 / 4)
    assert freq["average_feature_high"] == pytest.approx(4 / 8)
    assert freq["relevant_feature_other"] == pytest.approx(0.0)
    assert freq["n_high_inputs"] == 2
