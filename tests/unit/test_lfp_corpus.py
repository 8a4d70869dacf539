"""Demo corpus: determinism, slot positions, one lexicon word per sentence, cue, prefixes."""

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from prefscope.errors import InputError
from prefscope.lfp.finetune.corpus import (
    RATING_RANGE,
    CorpusConfig,
    cue_text,
    filler_words,
    generate_prefixes,
    generate_sentences,
    rating_for,
    slot_vocabulary,
)
from prefscope.lfp.lexicon import vader_lexicon
from prefscope.lfp.reward import vader_score, words

CFG = CorpusConfig(
    n_sentences=400,
    n_positive_words=20,
    n_negative_words=20,
    n_neutral_words=10,
    n_prefixes=100,
    n_eval_prefixes=30,
    seed=3,
)


def test_generation_is_deterministic_and_seed_dependent():
    a, b = generate_sentences(CFG), generate_sentences(CFG)
    assert a.equals(b)
    assert generate_prefixes(a, CFG).equals(generate_prefixes(b, CFG))
    other = generate_sentences(CorpusConfig(**{**CFG.__dict__, "seed": 4}))
    assert not a.equals(other)


def test_recorded_word_is_at_recorded_position_and_only_lexicon_word():
    lex = vader_lexicon()
    s = generate_sentences(CFG)
    assert s.height == 400 and s["sentence_id"].to_list() == list(range(400))
    for row in s.iter_rows(named=True):
        text, word = row["text"], row["word"]
        assert text[row["char_start"] : row["char_end"]] == word
        assert text.split()[row["word_index"]].strip(".,:") == word
        assert row["cue_start"] == row["char_end"]  # the cue follows the slot word directly
        assert text[row["cue_start"] : row["cue_end"]] == cue_text(row["rating"])
        assert [w for w in words(text) if w in lex] == ([word] if word in lex else [])
        assert row["valence"] == lex.get(word, 0.0)
        expected = "neutral" if word not in lex else ("positive" if lex[word] > 0 else "negative")
        assert row["polarity"] == expected
    assert set(s["polarity"]) == {"positive", "neutral", "negative"}


def test_vocabulary_sizes_and_fillers_are_lexicon_free():
    vocab = slot_vocabulary(CFG)
    assert [len(vocab[p]) for p in ("positive", "negative", "neutral")] == [20, 20, 10]
    assert not filler_words() & set(vader_lexicon())
    with pytest.raises(InputError, match="neutral"):
        slot_vocabulary(CorpusConfig(n_neutral_words=500))


def test_prefixes_end_before_the_slot_and_splits_are_disjoint():
    s = generate_sentences(CFG)
    p = generate_prefixes(s, CFG)
    assert p.height == 130 and (p["split"] == "eval").sum() == 30
    by_id = {r["sentence_id"]: r for r in s.iter_rows(named=True)}
    for row in p.iter_rows(named=True):
        sent = by_id[row["sentence_id"]]
        assert sent["text"].startswith(row["prefix"])
        assert len(row["prefix"].split()) == row["n_words"]
        assert CFG.min_prefix_words <= row["n_words"] <= min(9, sent["word_index"])
    train = set(p.filter(pl.col("split") == "train")["sentence_id"])
    assert not train & set(p.filter(pl.col("split") == "eval")["sentence_id"])


def test_rating_cue_rises_with_valence():
    s = generate_sentences(CorpusConfig(n_sentences=3000, seed=3))
    rating, valence = s["rating"].to_numpy(), s["valence"].to_numpy()
    assert set(rating) <= set(range(RATING_RANGE[0], RATING_RANGE[1] + 1))
    assert spearmanr(rating, valence).statistic > 0.8
    by = {p: rating[s["polarity"].to_numpy() == p] for p in ("positive", "neutral", "negative")}
    assert abs(by["neutral"].mean() - 5) < 0.3
    assert by["positive"].mean() > by["neutral"].mean() + 1 > by["negative"].mean() + 2
    # noisy but monotone: the mean rating of strong words beats that of weak ones
    strong, weak = valence >= 2.5, (valence > 0) & (valence < 1)
    assert rating[strong].mean() > rating[weak].mean() + 1.5
    rng = np.random.default_rng(0)
    assert rating_for(3.4, rng, 0.0) == 9 and rating_for(-3.9, rng, 0.0) == 1
    assert rating_for(0.0, rng, 0.0) == 5


def test_rating_cue_holds_no_lexicon_word_and_leaves_the_reward_alone():
    """Neither the reward's tokens nor VADER's own whitespace tokens see the cue."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lex = vader_lexicon()
    for r in range(RATING_RANGE[0], RATING_RANGE[1] + 1):
        cue = cue_text(r)
        assert words(cue) == []
        for token in cue.split():
            assert token not in lex and token.strip(".,:;!?()") not in lex
            for end in (".", ",", ":"):
                assert token + end not in lex
    analyzer = SentimentIntensityAnalyzer()
    s = generate_sentences(CFG)
    for row in s.iter_rows(named=True):
        text = row["text"]
        bare = text[: row["cue_start"]] + text[row["cue_end"] :]
        assert vader_score(text) == vader_score(bare) == row["valence"] / 5
        # VADER's own compound score is unchanged (its neg/neu/pos shares count the cue as
        # one more neutral token, so only they move)
        compound = [analyzer.polarity_scores(t)["compound"] for t in (text, bare)]
        assert compound[0] == compound[1]


def test_without_the_cue_the_corpus_is_the_same_minus_the_cue():
    with_cue = generate_sentences(CFG)
    without = generate_sentences(CorpusConfig(**{**CFG.__dict__, "rating_cue": False}))
    assert without["rating"].null_count() == without.height
    assert (without["cue_start"] == without["cue_end"]).all()
    stripped = [
        r["text"][: r["cue_start"]] + r["text"][r["cue_end"] :]
        for r in with_cue.iter_rows(named=True)
    ]
    assert stripped == without["text"].to_list()
    keep = ["word", "template_id", "char_start", "char_end", "word_index", "valence"]
    assert with_cue.select(keep).equals(without.select(keep))
    # the RL prompts end before the slot, so they are the same with or without the cue
    assert generate_prefixes(with_cue, CFG).equals(generate_prefixes(without, CFG))
