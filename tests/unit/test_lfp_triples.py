"""Contrastive triples: only the substituted word differs; the LLM grade is applied."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from prefscope.errors import InputError
from prefscope.lfp.finetune.preferences import read_preference_pairs
from prefscope.lfp.lexicon import vader_lexicon
from prefscope.lfp.probe.triples import (
    TripleConfig,
    apply_grade_filter,
    pair_triples,
    parse_grade,
    substitute,
    vader_triples,
)

_TEXTS = [
    "The film was great and the cast shone.",
    "A truly awful ending.",
    "Critics called it superb, honestly.",
    "The plot felt ordinary to me.",
    "Such a terrible waste.",
    "An average movie with a typical plot.",
]
_WORDS = ["great", "awful", "superb", "ordinary", "terrible", "average"]
_STARTS = [t.index(w) for t, w in zip(_TEXTS, _WORDS, strict=True)]
SENTENCES = pl.DataFrame({"text": _TEXTS, "word": _WORDS, "char_start": _STARTS})


def test_substitute_returns_new_span():
    text, span = substitute("it was fine.", 7, 11, "wonderful")
    assert text == "it was wonderful."
    assert text[span[0] : span[1]] == "wonderful"


def test_triple_differs_only_in_the_substituted_word():
    triples = vader_triples(SENTENCES, TripleConfig(min_abs_valence=1.0, seed=3))
    lex = vader_lexicon()
    assert triples.height == SENTENCES.height
    for row in triples.iter_rows(named=True):
        start = row["start"]
        prefixes = {row[f"text_{k}"][:start] for k in ("pos", "neu", "neg")}
        suffixes = {row[f"text_{k}"][row[f"end_{k}"] :] for k in ("pos", "neu", "neg")}
        assert len(prefixes) == 1 and len(suffixes) == 1
        words = [row[f"text_{k}"][start : row[f"end_{k}"]] for k in ("pos", "neu", "neg")]
        assert words == [row["word_pos"], row["word_neu"], row["word_neg"]]
        assert lex[row["word_pos"]] >= 1.0 and lex[row["word_neg"]] <= -1.0
        assert row["word_neu"] not in lex
        assert row["value_pos"] == lex[row["word_pos"]]
        # the rest of the sentence is word-for-word the original
        original = SENTENCES["text"][row["triple_id"]]
        assert row["text_neu"][:start] == original[:start]


def test_rating_cue_is_dropped_from_every_member():
    from prefscope.lfp.finetune.corpus import CorpusConfig, generate_sentences

    sentences = generate_sentences(CorpusConfig(n_sentences=200, seed=5))
    triples = vader_triples(sentences, TripleConfig(max_triples=50, seed=1))
    by_id = sentences.to_dicts()
    assert triples.height == 50
    for row in triples.iter_rows(named=True):
        assert all("/10" not in row[f"text_{k}"] for k in ("pos", "neu", "neg"))
    # without a cue the triple is the original sentence with another slot word
    rows = sentences.select("text", "word", "char_start", "cue_start", "cue_end").to_dicts()
    keep = np.sort(np.random.default_rng(1).choice(len(rows), size=50, replace=False))
    for row, i in zip(triples.iter_rows(named=True), keep, strict=True):
        src = by_id[int(i)]
        bare = src["text"][: src["cue_start"]] + src["text"][src["cue_end"] :]
        start, end = src["char_start"], src["char_end"]
        assert row["text_neu"] == bare[:start] + row["word_neu"] + bare[end:]


def test_cue_must_follow_the_slot():
    frame = SENTENCES.with_columns(cue_start=pl.lit(0), cue_end=pl.lit(3))
    with pytest.raises(InputError, match="after the slot"):
        vader_triples(frame, TripleConfig(min_abs_valence=1.0))


def test_branch_w_pairs_are_oriented_by_label_and_ties_dropped(tmp_path):
    path = tmp_path / "pairs.parquet"
    pl.DataFrame(
        {
            "prompt": ["p1", "p2", "p3"],
            "response_A": ["a1", "a2", "a3"],
            "response_B": ["b1", "b2", "b3"],
            "label": pl.Series([1, 0, None], dtype=pl.Int8),
        }
    ).write_parquet(path)
    pairs = read_preference_pairs(path)
    assert pairs["chosen"].to_list() == ["a1", "b2"]
    assert pairs["rejected"].to_list() == ["b1", "a2"]
    triples = pair_triples(pairs, TripleConfig())
    assert triples["text_neu"].to_list() == ["p1", "p2"]


def test_grade_parse_and_filter():
    assert parse_grade("Grade: 4") == 4
    assert parse_grade("I'd say 5/5") == 5
    assert parse_grade("no idea") is None
    assert parse_grade("10") is None
    keep = apply_grade_filter([5, 3, None, 4], min_grade=4)
    assert keep.tolist() == [True, False, False, True]


def test_llm_rewrite_triples_apply_the_grade_and_are_cached(tmp_path):
    """HH/toxic path: worse + neutral rewrites through an OpenAI-compatible server; rewrites
    graded below min_grade are dropped; a rerun is served from the cache (zero calls)."""
    from helpers.fake_openai import FakeOpenAI, openai_backend

    from prefscope.lfp.probe.stage import lfp_triples

    def answer(request):
        user = request["messages"][-1]["content"]
        if user.startswith("On a scale"):
            return "5" if "WORSE p1" in user else "2"  # the p2 rewrite is graded too mild
        if user.startswith("Rewrite"):
            return "WORSE " + user.split("Prompt:\n")[1].split("\n")[0]
        return "a neutral reply"

    path = tmp_path / "prefs.parquet"
    pl.DataFrame(
        {"prompt": ["p1", "p2"], "chosen": ["good 1", "good 2"], "rejected": ["bad 1", "bad 2"]}
    ).write_parquet(path)
    with FakeOpenAI(responder=answer) as server:
        params = {
            "task": "hh",
            "triples": {"max_triples": 10, "seed": 0, "rewrite_backend": "gpt", "min_grade": 4},
            "rewrite": {
                "task_description": "helpful and harmless answers",
                "cache_path": str(tmp_path / "llm.sqlite"),
                "llm": {"backends": {"gpt": openai_backend(server)}},
            },
        }
        for run in ("first", "rerun"):
            out = tmp_path / f"{run}.parquet"
            lfp_triples({"texts": str(path)}, {"triples": str(out)}, params, 1)
            if run == "first":
                assert server.calls == 6  # 2 pairs x (worse, neutral, grade)
        assert server.calls == 6
    triples = pl.read_parquet(out)
    assert triples["text_pos"].to_list() == ["good 1"]
    assert triples["text_neg"].to_list() == ["WORSE p1"]
    assert triples["text_neu"].to_list() == ["a neutral reply"]
    assert triples["grade"].to_list() == [5]
