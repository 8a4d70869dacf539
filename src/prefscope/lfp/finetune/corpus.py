"""The demo corpus: synthetic movie-review sentences with one VADER-lexicon slot each.

Every sentence is a template (``"{subj} {verb} {w}{tail}."``) whose filler words contain no
lexicon word, with exactly one slot ``{w}`` filled by a word of known polarity:

* ``positive`` / ``negative``: alphabetic lexicon entries (≥ 3 letters) with valence > 0 / < 0,
  drawn (seeded) from the whole valence range, so weak and strong words both occur;
* ``neutral``: plain descriptive words that are *not* in the lexicon (valence 0).

**Rating cue.** Right after the slot word comes a rating, ``"the movie was great 8/10 in
every scene."``: a noisy monotone function of the slot word's valence (:func:`rating_for`:
5 + 1.2 × valence + N(0, ``rating_noise``), rounded and clipped to 1–10, so neutral words
rate about 5). Without it nothing in a sentence depends on which word fills the slot, so
next-token prediction gives a pre-trained model no reason to represent a word's valence,
and a probe for the feedback that RL plants (sentiment) finds nothing to recover. With it,
predicting the token after the slot word means knowing that word's valence *at the slot
position*, which is where the branch-L probe reads the model (immediately after the slot,
not at the end of the sentence, so the valence cannot be looked up later by attention
alone). The cue is digits and ``/`` only: no reward token (the reward reads letter runs), no
VADER lexicon entry, and it does not change VADER's own score of the sentence.

Because the slot holds the only lexicon word, a sentence's VADER reward is still its slot
word's valence / 5, and the same template with another word in the slot is a contrastive
triple member that differs in that word only (the triples drop the cue: see
:mod:`prefscope.lfp.probe.triples`). The pre-trained tiny model learns "a review word goes
here, then its rating"; RL then only has to shift which word it picks, which a model of this
size can do.

``sentences.parquet`` columns (one row per sentence):

=============  =======  ==================================================================
sentence_id    int64    0..N-1
text           str      the sentence, lower case, rating cue included
template_id    int32    index into :data:`TEMPLATES`
word           str      the slot word (the sentence's only lexicon word, if any)
char_start     int32    ``text[char_start:char_end] == word``
char_end       int32
word_index     int32    index of the slot word in ``text.split()`` (punctuation attached)
valence        float64  lexicon valence (0.0 for neutral words)
polarity       str      "positive" | "neutral" | "negative"
rating         int32    the cue's rating 1–10 (null when ``rating_cue`` is off)
cue_start      int32    ``text[cue_start:cue_end]`` is the cue (``" 8/10"``), right after the
cue_end        int32    slot word; an empty span at ``char_end`` when ``rating_cue`` is off
=============  =======  ==================================================================

``prefixes.parquet`` columns (seeded RL prompts, the paper's 2–9-token IMDB prefixes in
spirit): ``prefix_id`` int64, ``sentence_id`` int64 (source sentence), ``prefix`` str (the
first ``n_words`` words, all before the slot, so the completion must choose the review word),
``n_words`` int32, ``split`` str ("train" for RL, "eval" for the before/after reward). Train
and eval prefixes come from disjoint sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from prefscope.errors import InputError

SUBJECTS = (
    "the movie",
    "this film",
    "the plot",
    "the script",
    "the cast",
    "the ending",
    "the soundtrack",
    "the lead actor",
    "the second half",
    "the dialogue",
    "the camera work",
    "the sequel",
    "the opening scene",
    "the story",
    "the final act",
    "the editing",
    "the score",
    "the director",
    "the remake",
)
VERBS = ("was", "is", "felt", "seemed", "looked", "sounded", "became", "stayed", "remained")
TAILS = (
    "",
    "",
    "",
    " from start to finish",
    " in every scene",
    " for most of the runtime",
    " overall",
    " at times",
    " by the end",
    " on the big screen",
    " in the first hour",
    " this time around",
)
TEMPLATES = (
    "{subj} {verb} {w}{tail}.",
    "{subj} {verb} {w}{tail}.",
    "i would call {subj} {w}{tail}.",
    "the word for {subj} is {w}.",
    "after watching it twice, {subj} {verb} {w}.",
    "my one word review of {subj}: {w}.",
    "the audience found {subj} {w}{tail}.",
    "people will call {subj} {w}.",
    "{w} is how {subj} {verb}{tail}.",
)
_NEUTRAL_WORDS = """
    long short recent french quiet local modern early late black white green blue red yellow
    wooden urban rural annual weekly daily formal digital silent loud slow fast small large
    tall young old new familiar foreign visual musical historical political technical typical
    average ordinary standard simple plain basic regular various several second third final
    first next distant northern southern western eastern central mental physical verbal written
    spoken printed animated round square flat narrow wide deep thin metal paper glass stone
"""
NEUTRAL_CANDIDATES = tuple(_NEUTRAL_WORDS.split())
POLARITIES = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class CorpusConfig:
    """Sizes and seed of the demo corpus (``lfp.corpus`` in the config)."""

    n_sentences: int = 6000
    n_positive_words: int = 120
    n_negative_words: int = 120
    n_neutral_words: int = 60
    n_prefixes: int = 1024
    n_eval_prefixes: int = 256
    min_prefix_words: int = 2
    max_prefix_words: int = 9
    rating_cue: bool = True
    rating_noise: float = 0.5
    seed: int = 11


NEUTRAL_RATING = 5.0  # the rating of a valence-0 word, before noise
RATING_SLOPE = 1.2  # rating points per valence point (lexicon range −3.9 … 3.4)
RATING_RANGE = (1, 10)


def filler_words() -> set[str]:
    """Every word the templates themselves use (must be lexicon-free)."""
    from prefscope.lfp.reward import words

    text = " ".join(SUBJECTS + VERBS + TAILS + TEMPLATES).replace("{", " ").replace("}", " ")
    return set(words(text)) - {"w", "subj", "verb", "tail"}


def slot_vocabulary(cfg: CorpusConfig) -> dict[str, list[str]]:
    """Seeded slot words per polarity (sorted within each polarity)."""
    from prefscope.lfp.lexicon import vader_lexicon
    from prefscope.lfp.reward import WORD_RE

    lex = vader_lexicon()
    clash = sorted(w for w in filler_words() if w in lex)
    if clash:  # a template word with a valence would break "one lexicon word per sentence"
        raise ValueError(f"template fillers contain lexicon words: {clash}")
    alpha = sorted(w for w in lex if len(w) >= 3 and WORD_RE.fullmatch(w))
    pools = {
        "positive": [w for w in alpha if lex[w] > 0],
        "negative": [w for w in alpha if lex[w] < 0],
        "neutral": [w for w in NEUTRAL_CANDIDATES if w not in lex],
    }
    wanted = {
        "positive": cfg.n_positive_words,
        "negative": cfg.n_negative_words,
        "neutral": cfg.n_neutral_words,
    }
    rng = np.random.default_rng(cfg.seed)
    vocab: dict[str, list[str]] = {}
    for polarity in POLARITIES:
        pool, n = pools[polarity], wanted[polarity]
        if n > len(pool):
            raise InputError(
                f"{n} {polarity} words requested, only {len(pool)} available",
                column=f"lfp.corpus.n_{polarity}_words",
            )
        vocab[polarity] = sorted(rng.choice(pool, size=n, replace=False).tolist())
    return vocab


def rating_for(valence: float, rng: np.random.Generator, noise: float) -> int:
    """The cue's rating: ``5 + 1.2 × valence`` plus Gaussian noise, rounded, clipped to 1–10."""
    raw = NEUTRAL_RATING + RATING_SLOPE * valence + noise * rng.standard_normal()
    return int(np.clip(np.rint(raw), *RATING_RANGE))


def cue_text(rating: int) -> str:
    """The rating cue as it follows the slot word: ``" 8/10"`` (digits and a slash only)."""
    return f" {int(rating)}/{RATING_RANGE[1]}"


def render(
    template_id: int, word: str, subj: str, verb: str, tail: str, cue: str = ""
) -> tuple[str, int]:
    """The sentence and the character offset of its slot word; ``cue`` follows the word."""
    head, rest = TEMPLATES[template_id].split("{w}")
    before = head.format(subj=subj, verb=verb, tail=tail)
    return before + word + cue + rest.format(subj=subj, verb=verb, tail=tail), len(before)


def generate_sentences(cfg: CorpusConfig) -> Any:
    """``sentences.parquet`` as a polars DataFrame (columns in the module docstring)."""
    import polars as pl

    from prefscope.lfp.lexicon import vader_lexicon

    lex = vader_lexicon()
    vocab = slot_vocabulary(cfg)
    entries = [(w, p) for p in POLARITIES for w in vocab[p]]
    rng = np.random.default_rng(cfg.seed + 1)
    cue_rng = np.random.default_rng(cfg.seed + 3)  # own stream: the cue leaves the rest as is
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "text",
            "template_id",
            "word",
            "char_start",
            "char_end",
            "word_index",
            "valence",
            "polarity",
            "rating",
            "cue_start",
            "cue_end",
        )
    }
    for _ in range(cfg.n_sentences):
        word, polarity = entries[rng.integers(len(entries))]
        tid = int(rng.integers(len(TEMPLATES)))
        subj = SUBJECTS[rng.integers(len(SUBJECTS))]
        verb = VERBS[rng.integers(len(VERBS))]
        tail = TAILS[rng.integers(len(TAILS))]
        valence = float(lex.get(word, 0.0))
        rating = rating_for(valence, cue_rng, cfg.rating_noise) if cfg.rating_cue else None
        cue = "" if rating is None else cue_text(rating)
        text, start = render(tid, word, subj, verb, tail, cue)
        cols["text"].append(text)
        cols["template_id"].append(tid)
        cols["word"].append(word)
        cols["char_start"].append(start)
        cols["char_end"].append(start + len(word))
        cols["word_index"].append(len(text[:start].split()))
        cols["valence"].append(valence)
        cols["polarity"].append(polarity)
        cols["rating"].append(rating)
        cols["cue_start"].append(start + len(word))
        cols["cue_end"].append(start + len(word) + len(cue))
    return pl.DataFrame(
        {
            "sentence_id": np.arange(cfg.n_sentences, dtype=np.int64),
            "text": cols["text"],
            "template_id": pl.Series(cols["template_id"], dtype=pl.Int32),
            "word": cols["word"],
            "char_start": pl.Series(cols["char_start"], dtype=pl.Int32),
            "char_end": pl.Series(cols["char_end"], dtype=pl.Int32),
            "word_index": pl.Series(cols["word_index"], dtype=pl.Int32),
            "valence": pl.Series(cols["valence"], dtype=pl.Float64),
            "polarity": cols["polarity"],
            "rating": pl.Series(cols["rating"], dtype=pl.Int32),
            "cue_start": pl.Series(cols["cue_start"], dtype=pl.Int32),
            "cue_end": pl.Series(cols["cue_end"], dtype=pl.Int32),
        }
    )


def generate_prefixes(sentences: Any, cfg: CorpusConfig) -> Any:
    """Seeded RL prefixes (train) and before/after evaluation prefixes (eval).

    A prefix is the first k words of a sentence, k uniform in
    [min_prefix_words, min(max_prefix_words, words before the slot)]; sentences with fewer
    than ``min_prefix_words`` words before their slot are never used.
    """
    import polars as pl

    usable = sentences.filter(pl.col("word_index") >= cfg.min_prefix_words)
    n_total = cfg.n_prefixes + cfg.n_eval_prefixes
    if usable.height < n_total:
        raise InputError(
            f"{n_total} prefixes requested but only {usable.height} sentences have "
            f">= {cfg.min_prefix_words} words before their slot",
            column="lfp.corpus.n_prefixes",
        )
    rng = np.random.default_rng(cfg.seed + 2)
    rows = np.sort(rng.choice(usable.height, size=n_total, replace=False))
    split = np.array(["train"] * n_total, dtype=object)
    split[rng.choice(n_total, size=cfg.n_eval_prefixes, replace=False)] = "eval"
    ids, prefixes, lengths = [], [], []
    for row in rows:
        rec = usable.row(int(row), named=True)
        hi = min(cfg.max_prefix_words, int(rec["word_index"]))
        k = int(rng.integers(cfg.min_prefix_words, hi + 1))
        ids.append(int(rec["sentence_id"]))
        prefixes.append(" ".join(rec["text"].split()[:k]))
        lengths.append(k)
    return pl.DataFrame(
        {
            "prefix_id": np.arange(n_total, dtype=np.int64),
            "sentence_id": np.array(ids, dtype=np.int64),
            "prefix": prefixes,
            "n_words": pl.Series(lengths, dtype=pl.Int32),
            "split": split.tolist(),
        }
    )
