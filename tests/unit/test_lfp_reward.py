"""The VADER lexicon reward on hand-made strings (exact values, clipping, tokenisation)."""

import pytest

from prefscope.lfp.lexicon import vader_lexicon
from prefscope.lfp.reward import vader_reward, vader_reward_func, words


def test_lexicon_is_the_package_file():
    lex = vader_lexicon()
    assert len(lex) == 7506  # 7,520 CRLF lines, 14 repeated tokens
    assert lex["great"] == 3.1 and lex["good"] == 1.9 and lex["horrible"] == -2.5
    assert min(lex.values()) == -3.9 and max(lex.values()) == 3.4


def test_words_are_lowercase_letter_runs():
    assert words("GREAT movie, don't :) 42x") == ["great", "movie", "don't", "x"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("great", 3.1 / 5),
        ("Good, GOOD!", 2 * 1.9 / 5),
        ("a great but horrible film", (3.1 - 2.5) / 5),
        ("the plot", 0.0),
        (":) can't stand it", 0.0),  # emoticons and the multi-word entry never match
        ("", 0.0),
        ("horrible " * 30, -10.0),  # -15 clipped
        ("great " * 20, 10.0),  # 12.4 clipped
    ],
)
def test_vader_reward_values(text, expected):
    assert vader_reward([text])[0] == pytest.approx(expected, abs=1e-12)


def test_reward_func_for_trl_scores_completion_text_and_messages():
    out = vader_reward_func(
        ["great", [{"role": "assistant", "content": "horrible"}]], prompts=["x", "y"]
    )
    assert out == pytest.approx([0.62, -0.5])
