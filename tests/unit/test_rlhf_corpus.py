"""Demo corpus: determinism, slot positions, one lexicon word per sentence, prefixes."""

import polars as pl
import pytest

from prefscope.errors import InputError
from prefscope.rlhf.corpus import (
    CorpusConfig,
    filler_words,
    generate_prefixes,
    generate_sentences,
    slot_vocabulary,
)
from prefscope.rlhf.reward import read_vader_lexicon, words

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
    lex = read_vader_lexicon()
    s = generate_sentences(CFG)
    assert s.height == 400 and s["sentence_id"].to_list() == list(range(400))
    for row in s.iter_rows(named=True):
        text, word = row["text"], row["word"]
        assert text[row["char_start"] : row["char_end"]] == word
        assert text.split()[row["word_index"]].strip(".,:") == word
        assert [w for w in words(text) if w in lex] == ([word] if word in lex else [])
        assert row["valence"] == lex.get(word, 0.0)
        expected = "neutral" if word not in lex else ("positive" if lex[word] > 0 else "negative")
        assert row["polarity"] == expected
    assert set(s["polarity"]) == {"positive", "neutral", "negative"}


def test_vocabulary_sizes_and_fillers_are_lexicon_free():
    vocab = slot_vocabulary(CFG)
    assert [len(vocab[p]) for p in ("positive", "negative", "neutral")] == [20, 20, 10]
    assert not filler_words() & set(read_vader_lexicon())
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
