"""The offline lexical backend: tokens, log-odds, descriptions, annotations."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from prefscope.interpret.backend import Annotator, Describer, PairText
from prefscope.interpret.factory import make_backends
from prefscope.interpret.lexical import (
    LexicalBackend,
    count_ngrams,
    count_terms,
    format_description,
    parse_description,
    pick_terms,
    tokenize,
    weighted_log_odds,
)


def pairs_of(a_texts, b_texts, prompt="Q?"):
    return [PairText(prompt, a, b) for a, b in zip(a_texts, b_texts, strict=True)]


def test_tokenize_keeps_formatting_symbols_and_folds_urls():
    text = "Hi **Bold**!\n- item: see https://x.org/a-b\n* two? e-mail can't Café #"
    assert tokenize(text) == (
        "hi",
        "**",
        "bold",
        "**",
        "!",
        "-",
        "item",
        ":",
        "see",
        "http",
        "*",
        "two",
        "?",
        "e-mail",
        "can't",
        "café",
        "#",
    )
    # double quotes are never tokens: they delimit terms in descriptions
    assert tokenize('He said "yes".') == ("he", "said", "yes", ".")
    assert tokenize("www.site.net/x and ’curly’ don’t") == ("http", "and", "curly", "don't")


def test_bigrams_join_words_only():
    assert count_ngrams(["my apologies ** ok"]) == Counter(
        {("my",): 1, ("apologies",): 1, ("**",): 1, ("ok",): 1, ("my", "apologies"): 1}
    )


def test_weighted_log_odds_matches_monroe_formula_on_tiny_corpus():
    a_texts, b_texts = ["sorry the cat", "sorry the dog"], ["the cat", "the dog"]
    scores = weighted_log_odds(
        count_ngrams(a_texts), count_ngrams(b_texts), count_ngrams(a_texts + b_texts), 10.0
    )
    # unigrams: n_A = 6, n_B = 4; background sorry 2 of 10 tokens, 4 types -> denom 12
    alpha = 10.0 * 2.5 / 12.0
    delta = math.log((2 + alpha) / (6 + 10 - 2 - alpha)) - math.log(alpha / (4 + 10 - alpha))
    expected = delta / math.sqrt(1 / (2 + alpha) + 1 / alpha)
    assert scores[("sorry",)] == pytest.approx(expected, rel=1e-12)
    assert scores[("sorry",)] == pytest.approx(0.7903888265690657, rel=1e-12)
    assert max(scores, key=scores.get) == ("sorry",)
    assert scores[("cat",)] == pytest.approx(scores[("dog",)])
    assert scores[("cat",)] < 0
    assert set(scores) == {
        ("sorry",),
        ("the",),
        ("cat",),
        ("dog",),
        ("sorry", "the"),
        ("the", "cat"),
        ("the", "dog"),
    }


def test_describe_picks_the_planted_word():
    a_texts, b_texts = ["sorry the cat", "sorry the dog"], ["the cat", "the dog"]
    backend = LexicalBackend(a_texts + b_texts, prior_strength=10.0)
    assert backend.describe([pairs_of(a_texts, b_texts)], seed=0) == ['uses the words "sorry"']


def test_describe_larger_sample_names_planted_phrases_not_filler():
    rng = np.random.default_rng(0)
    filler = ["garden", "soil", "water", "plant", "seed", "sun", "leaf", "root", "pot", "rain"]
    planted = ["i am so sorry about that", "my apologies for this"]
    a_texts, b_texts = [], []
    for i in range(12):
        body = " ".join(rng.choice(filler, 8))
        a_texts.append(f"{planted[i % 2]}. {body}")
        b_texts.append(" ".join(rng.choice(filler, 9)))
    # as in a real dataset, the background is mostly responses without the concept
    background = [" ".join(rng.choice(filler, 9)) for _ in range(400)] + a_texts + b_texts
    backend = LexicalBackend(background)
    (description,) = backend.describe([pairs_of(a_texts, b_texts)], seed=0)
    terms, negated = parse_description(description)
    assert not negated
    words = {w for t in terms for w in t}
    assert {"sorry", "apologies"} <= words
    assert not words & set(filler)
    assert description == 'uses the words "apologies", "sorry"'


def test_describe_uses_fewer_when_b_side_is_distinctive():
    a_texts = ["plain answer here", "plain reply here", "short note here"]
    b_texts = ["**bold** answer **x**", "**bold** reply **y**", "**very** note **z**"]
    backend = LexicalBackend(a_texts + b_texts)
    (description,) = backend.describe([pairs_of(a_texts, b_texts)], seed=0)
    assert description.startswith('uses fewer of the terms "**" (markdown bold)')
    assert parse_description(description)[1] is True


def test_pick_terms_dedups_overlapping_ngrams_and_stopwords():
    scores = {
        ("i'm", "sorry"): 5.0,
        ("sorry",): 4.0,
        ("the",): 3.5,
        ("apologize",): 3.0,
        ("my", "apologies"): 2.5,
        ("apologies",): 2.0,
        ("rare",): 0.9,
    }
    doc_freq = Counter(dict.fromkeys(scores, 5))
    picked = pick_terms(scores, doc_freq, n_terms=5, min_z=1.0, min_docs=2)
    assert [w for w, _ in picked] == [("i'm", "sorry"), ("apologize",), ("my", "apologies")]
    doc_freq[("apologize",)] = 1  # seen in a single response: not a pattern
    picked = pick_terms(scores, doc_freq, n_terms=2, min_z=1.0, min_docs=2)
    assert [w for w, _ in picked] == [("i'm", "sorry"), ("my", "apologies")]


def test_format_and_parse_round_trip():
    text = format_description(["sorry", "my apologies", "**"], fewer=False)
    assert text == 'uses the terms "sorry", "my apologies", "**" (markdown bold)'
    assert parse_description(text) == ([("sorry",), ("my", "apologies"), ("**",)], False)
    assert format_description(["sorry"], fewer=True) == 'uses fewer of the words "sorry"'
    # negation is read before the first quote only: the quoted word "not" is a term
    assert parse_description('uses the words "not"') == ([("not",)], False)
    assert parse_description("Responds with empathy") == ([], False)
    assert parse_description("Avoids “sorry”") == ([("sorry",)], True)


def test_count_terms_counts_ngrams():
    tokens = tokenize("so sorry, so sorry. sorry!")
    assert count_terms(tokens, [("so", "sorry")]) == 2
    assert count_terms(tokens, [("sorry",), ("so", "sorry")]) == 5


def test_annotate_exact_matrix():
    pairs = [
        PairText("p", "I'm sorry, sorry.", "Sorry."),  # sorry 2 vs 1
        PairText("p", "Fine.", "My apologies, sorry."),  # 0 vs 1 / apologies 0 vs 1
        PairText("p", "**x** and https://a.b", "**y**"),  # ** 2 vs 2, http 1 vs 0
        PairText("p", "same", "same"),
    ]
    concepts = [
        'uses the words "sorry"',
        'uses fewer of the words "sorry", "my apologies"',
        'uses the terms "**" (markdown bold)',
        'uses the words "http" (link)',
        "Expresses regret",  # no quoted terms: the lexical annotator cannot judge it
    ]
    got = LexicalBackend([]).annotate(pairs, concepts)
    expected = np.array(
        [
            [1, -1, 0, 0, np.nan],
            [-1, 1, 0, 0, np.nan],
            [0, 0, 0, 1, np.nan],
            [0, 0, 0, 0, np.nan],
        ]
    )
    np.testing.assert_array_equal(got, expected)
    assert not np.signbit(got[got == 0]).any()  # ties are +0.0, not -0.0


def test_backend_satisfies_protocols_and_reports_free_usage():
    describer, annotator = make_backends("lexical", None, {}, ["a b"])
    assert describer is annotator
    assert isinstance(describer, Describer) and isinstance(annotator, Annotator)
    assert describer.usage() == {
        "backend": "lexical",
        "calls": 0,
        "cache_hits": 0,
        "cache_misses": 0,
        "tokens": 0,
        "cost_usd": 0.0,
    }


def test_background_is_counted_lazily():
    backend = LexicalBackend(["x y"] * 3)
    backend.annotate([PairText("p", "x", "y")], ['uses the words "x"'])
    assert backend._background is None
    assert backend.background.counts[("x",)] == 3
    assert backend.background.tokens == {1: 6, 2: 3} and backend.background.types == {1: 2, 2: 1}
