"""The offline ``lexical`` backend: features described and annotated by n-gram statistics.

**Describe.** For the example pairs of one candidate (oriented so A has more of the feature),
count word unigrams and bigrams of the A responses and of the B responses and rank n-grams by
the weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
2008, "Fightin' Words", eq. 16): the prior pseudo-counts are the background frequencies (all
responses of the dataset) scaled to ``prior_strength`` pseudo-tokens, which shrinks rare
n-grams toward "no difference", and the log-odds difference is divided by its approximate
standard error to give a z-score.

The description names the top terms on the side with the stronger evidence:

* ``uses the words "sorry", "apologize", "my apologies"`` when A uses them more;
* ``uses fewer of the words "sorry", "apologize"`` when B uses them more (a feature can mean
  the *absence* of something in A, e.g. "answers without hedging").

Symbols get a gloss after the quotes, e.g. ``uses the terms "**" (markdown bold), "http"
(link)``. Quoted strings are the machine-readable part: :meth:`LexicalBackend.annotate`
counts exactly those terms, and a description with the word "fewer" (or another negation)
before its first quote counts the other way round.

**Tokens.** Lowercase words in any script (with inner apostrophes and hyphens: ``can't``,
``e-mail``), numbers, one ``http`` token per URL or ``www.`` address, and formatting and
punctuation symbols:
``**`` and ``__`` (bold), ``*`` / ``-`` / ``•`` (list bullets when they start a line),
``#`` runs (headings), backticks (code), ``?``, ``!``, ``:``, brackets... so that markdown,
lists, links and questions are describable. Double quotes are never tokens: they delimit
terms in descriptions. Bigrams join two adjacent *words* only (``my apologies``), never a
word and a symbol.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from prefscope.interpret.backend import PairText

_TOKEN = re.compile(
    r"""(?P<url>(?:https?://|www\.)[^\s<>"'()\[\]]+)
      | (?P<word>[^\W_]+(?:['’\-][^\W_]+)*)
      | (?P<sym>\*\*|__|```|`|\#+|\.\.\.|[*•\-–—?!:;()\[\]{}/|.,%$&+=<>~^@])
    """,
    re.VERBOSE,
)

# Frequent words whose share moves with sentence length and style, not with a concept.
# Negations and modal refusals ("not", "can't", "won't") are deliberately *not* here.
STOPWORDS = frozenset(
    """a an the and or but if then so of to in on at by for with from as into about than
    is are was were be been being am do does did have has had it its it's this that these
    those there here i you he she we they me him her us them my your our their his
    i'm you're we're they're i've you've i'll you'll i'd you'd
    what which who whom when where how will would can could should may might must just also
    very more most some any all each other such only own same too up out over
    , . ' ...""".split()  # noqa: SIM905 - a word list reads better as text
)

GLOSSES = {
    "**": "markdown bold",
    "__": "markdown bold",
    "*": "asterisk or bullet",
    "-": "dash or bullet",
    "•": "bullet",
    "#": "markdown heading",
    "##": "markdown heading",
    "###": "markdown heading",
    "`": "inline code",
    "```": "code block",
    "?": "question mark",
    "!": "exclamation mark",
    "http": "link",
    ":": "colon",
    "(": "parenthesis",
    "[": "square bracket",
}

BIGRAM_MARGIN = 1.1  # a bigram's z must exceed a unigram's by 10% to rank above it

_QUOTED = re.compile(r"[\"“”]([^\"“”]+)[\"“”]")
_NEGATION = re.compile(
    r"\b(fewer|less|lacks?|absence|absent|avoids?|without|not|no|never|doesn't|does not)\b",
    re.IGNORECASE,
)

LEXICAL_USAGE = {"backend": "lexical", "calls": 0, "cache_hits": 0, "cache_misses": 0,
                 "tokens": 0, "cost_usd": 0.0}


def _tokenize(text: str) -> tuple[str, ...]:
    out = []
    for m in _TOKEN.finditer(text.lower()):
        kind = m.lastgroup
        if kind == "url":
            out.append("http")
        elif kind == "word":
            out.append(m.group().replace("’", "'"))
        else:
            out.append(m.group())
    return tuple(out)


# Fidelity annotates the same held-out pairs once per batch of concepts: cache their tokens.
# Background texts go through the uncached function so they never fill the cache.
_tokenize_cached = lru_cache(maxsize=8192)(_tokenize)


def tokenize(text: str) -> tuple[str, ...]:
    """Lowercase word, number, URL (``http``) and symbol tokens of ``text``."""
    return _tokenize_cached(text)


def _is_word(token: str) -> bool:
    return token[0].isalnum()


def ngrams(tokens: Sequence[str]) -> Iterable[tuple[str, ...]]:
    """Unigrams, then bigrams of two adjacent word tokens."""
    for t in tokens:
        yield (t,)
    for a, b in itertools.pairwise(tokens):
        if _is_word(a) and _is_word(b):
            yield (a, b)


def count_ngrams(texts: Iterable[str]) -> Counter[tuple[str, ...]]:
    """Unigram and bigram counts over ``texts``."""
    counts: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        counts.update(ngrams(_tokenize(text)))
    return counts


@dataclass(frozen=True)
class Background:
    """Background n-gram counts with their per-order totals, computed once.

    The totals are needed by every log-odds call; recomputing them over a dataset-sized
    counter for each feature and candidate would dominate the run time.
    """

    counts: Counter
    tokens: dict[int, int]  # order -> number of n-grams
    types: dict[int, int]  # order -> number of distinct n-grams

    @classmethod
    def from_counts(cls, counts: Counter) -> Background:
        tokens: Counter[int] = Counter()
        types: Counter[int] = Counter()
        for w, c in counts.items():
            tokens[len(w)] += c
            types[len(w)] += 1
        return cls(counts, dict(tokens), dict(types))


def weighted_log_odds(
    counts_a: Counter,
    counts_b: Counter,
    background: Background | Counter,
    prior_strength: float,
) -> dict[tuple[str, ...], float]:
    """z-scored log-odds ratio (A vs B) with an informative Dirichlet prior, per n-gram.

    Unigrams and bigrams are separate multinomials (each with its own totals and prior),
    so a bigram is compared with bigrams. The prior for n-gram ``w`` is
    ``alpha_w = prior_strength * p_bg(w)``, with ``p_bg`` the background frequency smoothed
    by half a count so n-grams unseen in the background still get a finite score.
    """
    if not isinstance(background, Background):
        background = Background.from_counts(background)
    bg = background.counts
    scores: dict[tuple[str, ...], float] = {}
    alpha0 = float(prior_strength)
    for order in (1, 2):
        vocab = {w for w in (*counts_a, *counts_b) if len(w) == order}
        if not vocab:
            continue
        n_a = sum(c for w, c in counts_a.items() if len(w) == order)
        n_b = sum(c for w, c in counts_b.items() if len(w) == order)
        n_types = background.types.get(order, 0) + sum(1 for w in vocab if w not in bg)
        denom = background.tokens.get(order, 0) + 0.5 * n_types
        for w in vocab:
            alpha = alpha0 * (bg.get(w, 0) + 0.5) / denom
            ya, yb = counts_a.get(w, 0), counts_b.get(w, 0)
            delta = math.log((ya + alpha) / (n_a + alpha0 - ya - alpha)) - math.log(
                (yb + alpha) / (n_b + alpha0 - yb - alpha)
            )
            scores[w] = delta / math.sqrt(1.0 / (ya + alpha) + 1.0 / (yb + alpha))
    return scores


def _informative(term: tuple[str, ...]) -> bool:
    return not all(t in STOPWORDS for t in term)


def pick_terms(
    scores: dict[tuple[str, ...], float],
    doc_freq: Counter,
    *,
    n_terms: int,
    min_z: float,
    min_docs: int,
) -> list[tuple[tuple[str, ...], float]]:
    """Top terms by z, skipping stopwords, rare terms and terms sharing a word with a better one.

    The overlap rule stops ``"i'm sorry"`` from repeating ``"sorry"`` (and ``"apologies"``
    from repeating ``"my apologies"``). A bigram must beat a unigram by more than
    ``BIGRAM_MARGIN`` to rank above it: ``"sorry"`` also matches "I'm sorry" and "sorry for",
    so it generalises better than ``"so sorry"`` unless the bigram is clearly the pattern.
    The best term is kept even below ``min_z`` so that a description always names
    something; fidelity then decides whether it is any good.
    """
    ranked = sorted(
        (
            (w, z)
            for w, z in scores.items()
            if z > 0 and _informative(w) and doc_freq.get(w, 0) >= min_docs
        ),
        key=lambda item: (-item[1] / BIGRAM_MARGIN ** (len(item[0]) - 1), item[0]),
    )
    chosen: list[tuple[tuple[str, ...], float]] = []
    used: set[str] = set()
    for w, z in ranked:
        if len(chosen) >= n_terms or (chosen and z < min_z):
            break
        if used.intersection(w):
            continue
        chosen.append((w, z))
        used.update(w)
    return chosen


def format_description(terms: Sequence[str], *, fewer: bool) -> str:
    """``uses the words "a", "b"`` / ``uses fewer of the terms "**" (markdown bold)``."""
    if not terms:
        return "no distinctive words"
    noun = "words" if all(any(ch.isalnum() for ch in t) for t in terms) else "terms"
    rendered = ", ".join(
        f'"{t}" ({GLOSSES[t]})' if t in GLOSSES else f'"{t}"' for t in terms
    )
    return f"uses {'fewer of ' if fewer else ''}the {noun} {rendered}"


def parse_description(description: str) -> tuple[list[tuple[str, ...]], bool]:
    """Quoted terms of a description (tokenized) and whether it is negated.

    Negation ("fewer", "without", "does not"...) is read from the text before the first
    quote only, so a quoted term such as ``"not"`` does not flip the sign.
    """
    matches = list(_QUOTED.finditer(description))
    terms = [tokenize(m.group(1)) for m in matches]
    terms = [t for t in terms if t]
    head = description[: matches[0].start()] if matches else description
    return terms, bool(_NEGATION.search(head))


def count_terms(tokens: Sequence[str], terms: Sequence[tuple[str, ...]]) -> int:
    """Total occurrences of the n-gram ``terms`` in ``tokens`` (overlaps counted)."""
    total = 0
    for term in terms:
        k = len(term)
        if k == 1:
            total += tokens.count(term[0])
            continue
        total += sum(
            1 for i in range(len(tokens) - k + 1) if tuple(tokens[i : i + k]) == term
        )
    return total


class LexicalBackend:
    """Describer and Annotator from n-gram statistics; needs no model and makes no calls.

    ``background_texts`` (all responses of the dataset) set the prior; they are counted
    lazily on the first :meth:`describe`, so an annotate-only use pays nothing for them.
    At most ``max_background`` texts are counted (an evenly spaced subset beyond that).

    Defaults were set on the planted-concept demo: with a dozen example pairs even a word that
    is in every A and no B reaches only z of about 2, so terms down to ``min_z = 1`` are named
    (more terms cover more phrasings of a concept, and fidelity filters bad descriptions);
    ``prior_strength = 500`` pseudo-tokens is about the size of one example set, strong enough
    to demote words seen once, weak enough not to swamp the sample. A term must occur in at
    least ``min_docs`` responses of its side, so one response repeating a word is not a feature.
    """

    name = "lexical"

    def __init__(
        self,
        background_texts: Sequence[str],
        *,
        prior_strength: float = 500.0,
        n_terms: int = 4,
        min_z: float = 1.0,
        min_docs: int = 2,
        max_background: int = 50_000,
    ) -> None:
        self._background_texts = background_texts
        self.prior_strength = prior_strength
        self.n_terms = n_terms
        self.min_z = min_z
        self.min_docs = min_docs
        self.max_background = max_background
        self._background: Background | None = None

    @property
    def background(self) -> Background:
        if self._background is None:
            texts = self._background_texts
            if len(texts) > self.max_background:
                step = len(texts) / self.max_background
                texts = [texts[int(i * step)] for i in range(self.max_background)]
            self._background = Background.from_counts(count_ngrams(texts))
        return self._background

    def describe_one(self, pairs: Sequence[PairText]) -> str:
        """The description for one example set (A = more of the feature)."""
        side_a = [p.response_A for p in pairs]
        side_b = [p.response_B for p in pairs]
        counts_a, counts_b = count_ngrams(side_a), count_ngrams(side_b)
        scores = weighted_log_odds(counts_a, counts_b, self.background, self.prior_strength)
        min_docs = min(self.min_docs, len(pairs))
        picks = {}
        for fewer, texts, sign in ((False, side_a, 1.0), (True, side_b, -1.0)):
            doc_freq: Counter = Counter()
            for text in texts:
                doc_freq.update(set(ngrams(tokenize(text))))
            signed = {w: sign * z for w, z in scores.items()}
            picks[fewer] = pick_terms(
                signed, doc_freq, n_terms=self.n_terms, min_z=self.min_z, min_docs=min_docs
            )
        # The side whose best term has the stronger evidence wins; a tie goes to "uses".
        best = {k: v[0][1] if v else 0.0 for k, v in picks.items()}
        fewer = best[True] > best[False]
        return format_description([" ".join(w) for w, _ in picks[fewer]], fewer=fewer)

    def describe(self, examples: Sequence[Sequence[PairText]], *, seed: int) -> list[str]:
        # Deterministic: candidates differ only through their samples; ``seed`` is unused.
        return [self.describe_one(pairs) for pairs in examples]

    def annotate(self, pairs: Sequence[PairText], concepts: Sequence[str]) -> np.ndarray:
        """+1 where A has more occurrences of the concept's quoted terms, -1 fewer, 0 equal.

        A negated concept ("uses fewer of ...") flips the sign; a concept without quoted
        terms (e.g. an LLM-written description) is NaN for every pair.
        """
        out = np.full((len(pairs), len(concepts)), np.nan)
        parsed = [parse_description(c) for c in concepts]
        for i, pair in enumerate(pairs):
            tok_a, tok_b = tokenize(pair.response_A), tokenize(pair.response_B)
            for j, (terms, negated) in enumerate(parsed):
                if terms:
                    diff = count_terms(tok_a, terms) - count_terms(tok_b, terms)
                    out[i, j] = -np.sign(diff) if negated else np.sign(diff)
        return out + 0.0  # turn -0.0 into 0.0

    def usage(self) -> dict[str, Any]:
        return dict(LEXICAL_USAGE)
