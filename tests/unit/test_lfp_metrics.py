"""Kendall tau on numbers aligned by word, sign accuracy, scaling, splits."""

from __future__ import annotations

import numpy as np
import pytest

from prefscope.lfp import metrics
from prefscope.lfp.probe.probes import SignPreservingScale, group_split, xavier_weights

TRUE = {"great": 3.1, "good": 1.9, "okay": 0.9, "bad": -2.5, "awful": -2.0, "hate": -2.7}


def test_tau_of_identical_predictions_is_one():
    assert metrics.kendall(dict(TRUE), TRUE)["tau"] == pytest.approx(1.0)


def test_tau_of_reversed_predictions_is_minus_one():
    reversed_pred = {w: -v for w, v in TRUE.items()}
    result = metrics.kendall(reversed_pred, TRUE)
    assert result["tau"] == pytest.approx(-1.0)
    assert result["n_words"] == 6
    assert result["p"] < 0.05


def test_tau_aligns_by_word_not_by_position():
    # same values, dict built in another order: alignment is by word
    shuffled = {w: TRUE[w] for w in sorted(TRUE, key=lambda w: w[::-1])}
    assert metrics.kendall(shuffled, TRUE)["tau"] == pytest.approx(1.0)


def test_sign_accuracy_and_negative_only():
    pred = {"great": 1.0, "good": -0.5, "okay": 0.2, "bad": -1.0, "awful": 0.3, "hate": -3.0}
    acc = metrics.sign_accuracy(pred, TRUE)
    assert acc["positive"] == pytest.approx(2 / 3)
    assert acc["negative"] == pytest.approx(2 / 3)
    neg = metrics.negative_only(pred, TRUE)
    assert neg["n_words"] == 3
    # true order hate < bad < awful; predicted hate < bad < awful -> tau 1
    assert neg["tau"] == pytest.approx(1.0)


def test_per_word_mean():
    assert metrics.per_word_mean(["a", "b", "a"], [1.0, 5.0, 3.0]) == {"a": 2.0, "b": 5.0}


def test_sign_preserving_scale():
    raw = np.array([-4.0, -2.0, -1.0, 0.5, 1.0, 2.0])
    scale = SignPreservingScale(-3.9, 3.4, quantile=1.0).fit(raw)
    out = scale.transform(raw)
    assert np.all(np.sign(out) == np.sign(raw))
    assert out[0] == pytest.approx(-3.9) and out[-1] == pytest.approx(3.4)
    assert out[3] == pytest.approx(0.5 * 3.4 / 2.0)


def test_group_split_never_straddles():
    words = ["a", "b", "c", "a", "d", "e", "b", "f", "g", "h"]
    test = group_split(words, 0.3, seed=1)
    train_words = {w for w, t in zip(words, test, strict=True) if not t}
    test_words = {w for w, t in zip(words, test, strict=True) if t}
    assert train_words.isdisjoint(test_words)
    assert len(test_words) == 2
    np.testing.assert_array_equal(test, group_split(words, 0.3, seed=1))


def test_xavier_bound():
    w = xavier_weights(23, seed=0)
    assert np.abs(w).max() <= np.sqrt(6 / 24)
    assert w.std() == pytest.approx(np.sqrt(6 / 24) / np.sqrt(3), rel=0.5)
