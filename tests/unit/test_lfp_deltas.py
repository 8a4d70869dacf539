"""Sub-token spans by character offsets; activation-delta sign conventions."""

from __future__ import annotations

import numpy as np
import pytest
from lfp_tiny import tiny_model_and_tokenizer

from prefscope.lfp.probe.deltas import activation_deltas, token_span


def test_token_span_with_trimmed_and_untrimmed_offsets():
    # "the movie was great": tokens the | movie | was | gr | eat
    trimmed = [(0, 3), (4, 9), (10, 13), (14, 16), (16, 19), (0, 0)]
    untrimmed = [(0, 3), (3, 9), (9, 13), (13, 16), (16, 19), (0, 0)]
    assert token_span(trimmed, 14, 19) == [3, 4]
    assert token_span(untrimmed, 14, 19) == [3, 4]
    assert token_span(trimmed, 4, 9) == [1]


def test_token_span_locates_the_word_in_a_real_tokenizer():
    _, tok = tiny_model_and_tokenizer()
    text = "what a terrible waste of time"
    start = text.index("terrible")
    enc = tok(text, return_offsets_mapping=True)
    span = token_span(enc["offset_mapping"], start, start + len("terrible"))
    assert span  # found
    decoded = tok.decode([enc["input_ids"][i] for i in span]).strip()
    assert decoded == "terrible"


def test_delta_signs_and_values():
    a_neu = np.zeros((2, 3))
    a_pos = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    a_neg = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    d_pos, d_neg = activation_deltas(a_pos, a_neu, a_neg)
    assert d_pos.tolist() == pytest.approx([5.0, 1.0])
    assert d_neg.tolist() == pytest.approx([-1.0, -2.0])
    assert np.all(d_pos >= 0) and np.all(d_neg <= 0)
