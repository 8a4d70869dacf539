"""Contrastive inputs: (positive, neutral, negative) versions of the same input.

**VADER task — substitution.** A corpus sentence has one slot holding a lexicon word (its
character span is recorded by the corpus generator). The triple puts a positive word, a
neutral word and a negative word in that slot and changes nothing else, so the three
activations differ only because of the word (the reference asked GPT-4 to rewrite
sentences, which changes other words too, and never committed the neutral step). Words are
drawn, seeded, from the corpus's own slot vocabulary so every substitute is grammatical in
the slots it appears in: positive = valence ≥ ``min_abs_valence``, negative = valence ≤
−``min_abs_valence``, neutral = not in the lexicon (falling back to a small list of plain
adjectives that are not lexicon entries when the corpus has too few).

The demo corpus follows each slot word with a rating cue (``"... was great 8/10 in every
scene."``, see :mod:`prefscope.lfp.finetune.corpus`), recorded as the span ``cue_start:cue_end``.
Triples **drop the cue** before substituting. The cue is a label of the *original* word:
kept, it would tell the model "2/10" after a positive substitute; re-rated for each
substitute, the three members would differ in more than the word. Without it they differ
in the slot word only, and nothing is lost for the probe: it reads the activations at the
slot word's tokens, which in a causal LM do not depend on any later text (and byte-level BPE
splits the word into the same tokens whatever follows it). Tables without cue columns (other
corpora) are used as they are.

**DPO demo — preference pairs.** The branch-W demo pairs give chosen and rejected responses
to the same prompt; the neutral member is the prompt alone (content-free with respect to the
response). Only chosen/rejected feed the logistic probe, as in the paper.

**HH/toxic real runs — LLM rewrites.** The rejected member is rewritten to be worse and a
neutral, unhelpful-but-harmless rewrite is added; each rewrite is graded 1–5 by the LLM and
the grade is *applied*: triples whose worse-rewrite grade is below ``min_grade`` are dropped
(the reference defined its grader and never called it). The prompt builders and parsers are
here; the calls go through ``prefscope.llm`` in :func:`llm_triples`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from prefscope.errors import InputError
from prefscope.lfp.lexicon import vader_lexicon

# Plain adjectives that are not VADER entries: the neutral fallback pool.
NEUTRAL_FALLBACK = (
    "ordinary",
    "average",
    "typical",
    "recent",
    "modern",
    "standard",
    "usual",
    "long",
    "short",
    "older",
)


@dataclass(frozen=True)
class TripleConfig:
    min_abs_valence: float = 1.0
    max_triples: int | None = 3000
    seed: int = 0
    rewrite_backend: str | None = None  # an llm.backends name: LLM-rewrite triples for pairs
    min_grade: int = 4  # rewrites graded below this (1–5) are dropped


# --------------------------------------------------------------------------- VADER


def substitute(text: str, start: int, end: int, word: str) -> tuple[str, tuple[int, int]]:
    """Replace ``text[start:end]`` by ``word``; return the new text and the word's span."""
    if not 0 <= start < end <= len(text):
        raise InputError(f"slot span ({start}, {end}) outside a text of length {len(text)}")
    return text[:start] + word + text[end:], (start, start + len(word))


def drop_cue(text: str, slot_end: int, cue_start: Any, cue_end: Any, row: int | None = None) -> str:
    """``text`` without its rating cue ``text[cue_start:cue_end]``, which must follow the slot."""
    if cue_start is None or cue_end is None or cue_end == cue_start:
        return text
    if not slot_end <= cue_start < cue_end <= len(text):
        raise InputError(
            f"rating cue ({cue_start}, {cue_end}) must lie after the slot (ends at {slot_end}) "
            f"inside a text of length {len(text)}",
            row=row,
        )
    return text[:cue_start] + text[cue_end:]


def _slot_columns(frame: Any) -> tuple[str, str, str]:
    """Find the (text, word, char start) columns of the corpus sentences table."""
    cols = set(frame.columns)
    text = next((c for c in ("text", "sentence") if c in cols), None)
    word = next((c for c in ("word", "lexicon_word") if c in cols), None)
    start = next((c for c in ("char_start", "start", "word_start") if c in cols), None)
    if text is None or word is None or start is None:
        raise InputError(f"sentences need text, word and char_start columns (have {sorted(cols)})")
    return text, word, start


def word_pools(words: Sequence[str], min_abs_valence: float) -> dict[str, list[str]]:
    """Split a slot vocabulary into positive, neutral and negative pools by VADER valence."""
    lex = vader_lexicon()
    vocab = sorted({w.lower() for w in words})
    pools = {
        "pos": [w for w in vocab if lex.get(w, 0.0) >= min_abs_valence],
        "neg": [w for w in vocab if lex.get(w, 0.0) <= -min_abs_valence],
        "neu": [w for w in vocab if w not in lex],
    }
    if len(pools["neu"]) < 3:
        pools["neu"] = sorted(set(pools["neu"]) | {w for w in NEUTRAL_FALLBACK if w not in lex})
    for name, pool in pools.items():
        if not pool:
            raise InputError(f"no {name} words with |valence| >= {min_abs_valence} in the corpus")
    return pools


def vader_triples(sentences: Any, cfg: TripleConfig) -> Any:
    """One triple per corpus sentence (seeded subsample of ``cfg.max_triples``).

    Columns: ``triple_id``, ``text_pos/neu/neg``, ``start`` (character start of the slot,
    the same in all three texts), ``end_pos/neu/neg``, ``word_pos/neu/neg`` and
    ``value_pos``/``value_neg`` (lexicon valences). A rating cue (``cue_start``/``cue_end``
    columns) is removed first (module docstring).
    """
    import polars as pl

    text_col, word_col, start_col = _slot_columns(sentences)
    cue_cols = [c for c in ("cue_start", "cue_end") if c in sentences.columns]
    rng = np.random.default_rng(cfg.seed)
    rows = sentences.select(text_col, word_col, start_col, *cue_cols).to_dicts()
    if cfg.max_triples is not None and len(rows) > cfg.max_triples:
        keep = np.sort(rng.choice(len(rows), size=cfg.max_triples, replace=False))
        rows = [rows[i] for i in keep]
    pools = word_pools([r[word_col] for r in rows], cfg.min_abs_valence)
    lex = vader_lexicon()
    out: dict[str, list[Any]] = {k: [] for k in _TRIPLE_COLUMNS}
    for i, row in enumerate(rows):
        text, word, start = row[text_col], row[word_col], int(row[start_col])
        end = start + len(word)
        if text[start:end].lower() != word.lower():
            raise InputError(
                f"slot word {word!r} not found at character {start} of {text!r}", row=i + 1
            )
        if len(cue_cols) == 2:
            text = drop_cue(text, end, row["cue_start"], row["cue_end"], row=i + 1)
        picks = {k: pools[k][rng.integers(len(pools[k]))] for k in ("pos", "neu", "neg")}
        out["triple_id"].append(i)
        out["start"].append(start)
        for kind, w in picks.items():
            new_text, (_, new_end) = substitute(text, start, end, w)
            out[f"text_{kind}"].append(new_text)
            out[f"word_{kind}"].append(w)
            out[f"end_{kind}"].append(new_end)
        out["value_pos"].append(lex[picks["pos"]])
        out["value_neg"].append(lex[picks["neg"]])
    return pl.DataFrame(out, schema_overrides={"triple_id": pl.Int64, "start": pl.Int64})


_TRIPLE_COLUMNS = (
    "triple_id",
    "start",
    "text_pos",
    "text_neu",
    "text_neg",
    "word_pos",
    "word_neu",
    "word_neg",
    "end_pos",
    "end_neu",
    "end_neg",
    "value_pos",
    "value_neg",
)


# --------------------------------------------------------------------------- preference pairs


def sample_pairs(pairs: Any, cfg: TripleConfig) -> Any:
    """At most ``max_triples`` pairs, a seeded sample in table order."""
    if cfg.max_triples is None or pairs.height <= cfg.max_triples:
        return pairs
    rng = np.random.default_rng(cfg.seed)
    keep = np.sort(rng.choice(pairs.height, size=cfg.max_triples, replace=False))
    return pairs[keep.tolist()]


def pair_triples(pairs: Any, cfg: TripleConfig) -> Any:
    """Chosen (pos), prompt-only (neu) and rejected (neg) texts, one row per pair."""
    import polars as pl

    frame = sample_pairs(pairs, cfg)
    return pl.DataFrame(
        {
            "triple_id": np.arange(frame.height, dtype=np.int64),
            "text_pos": frame["chosen"],
            "text_neu": frame["prompt"],
            "text_neg": frame["rejected"],
        }
    )


# --------------------------------------------------------------------------- LLM rewrites

REWRITE_WORSE = (
    "Rewrite the assistant's response below so that it is clearly worse by the standard of "
    "this task: {task}. Keep the topic and length similar. Reply with the rewritten response "
    "only.\n\nPrompt:\n{prompt}\n\nResponse:\n{response}"
)
REWRITE_NEUTRAL = (
    "Write a response to the prompt below that is neither helpful nor harmful: polite, on a "
    "different topic, with no content that answers the prompt. Reply with the response "
    "only.\n\nPrompt:\n{prompt}"
)
GRADE = (
    "On a scale from 1 (not at all) to 5 (completely), how well does the response below "
    "match this description: {criterion}? Answer with a single digit.\n\nPrompt:\n{prompt}"
    "\n\nResponse:\n{response}"
)
_DIGIT = re.compile(r"\b([1-5])\b")


def parse_grade(answer: str) -> int | None:
    """The first standalone digit 1–5 in an answer; None when there is none (never guessed)."""
    match = _DIGIT.search(answer or "")
    return int(match.group(1)) if match else None


def valid_grade(answer: str) -> int:
    """:func:`parse_grade` for the LLM backend: no grade is a malformed answer (asked again)."""
    from prefscope.llm.errors import MalformedAnswer
    from prefscope.llm.parse import strip_wrappers

    grade = parse_grade(strip_wrappers(answer))
    if grade is None:
        raise MalformedAnswer("the answer has no grade: reply with a single digit from 1 to 5")
    return grade


def valid_rewrite(answer: str) -> str:
    """A rewrite without reasoning blocks or fences; an empty one is malformed (asked again)."""
    from prefscope.llm.errors import MalformedAnswer
    from prefscope.llm.parse import strip_wrappers

    text = strip_wrappers(answer).strip()
    if not text:
        raise MalformedAnswer("the rewrite is empty: reply with the rewritten response")
    return text


def apply_grade_filter(grades: Sequence[int | None], min_grade: int) -> np.ndarray:
    """Boolean keep-mask: a triple stays only with a parsed grade ≥ ``min_grade``."""
    return np.array([g is not None and g >= min_grade for g in grades], dtype=bool)


#: ``ask(prompts, parse)``: one validated answer per prompt, None where it stayed malformed.
Ask = Callable[[list[str], Callable[[str], Any]], list[Any]]


def llm_triples(
    pairs: Any,
    ask: Ask,
    *,
    task: str,
    criterion: str,
    min_grade: int,
) -> tuple[Any, int]:
    """Rewrite, grade and filter; returns the kept triples and how many were missing.

    ``ask`` is a thin closure over a ``prefscope.llm`` backend's ``complete_many`` (cached,
    retried, validated): an empty rewrite or an answer without a grade is shown to the model
    and asked again, and after the repair retries counts as missing (None, never cached). A
    pair with a missing rewrite or grade is dropped, like one graded below ``min_grade``; the
    grade column keeps the filter visible in the output.
    """
    import polars as pl

    rows = list(pairs.iter_rows(named=True))
    worse = ask(
        [REWRITE_WORSE.format(task=task, prompt=r["prompt"], response=r["chosen"]) for r in rows],
        valid_rewrite,
    )
    neutral = ask([REWRITE_NEUTRAL.format(prompt=r["prompt"]) for r in rows], valid_rewrite)
    graded = [i for i, w in enumerate(worse) if w is not None]
    grades: list[int | None] = [None] * len(rows)
    answers = ask(
        [
            GRADE.format(criterion=criterion, prompt=rows[i]["prompt"], response=worse[i])
            for i in graded
        ],
        valid_grade,
    )
    for i, grade in zip(graded, answers, strict=True):
        grades[i] = grade
    complete = [
        w is not None and n is not None and g is not None
        for w, n, g in zip(worse, neutral, grades, strict=True)
    ]
    keep = apply_grade_filter(grades, min_grade) & np.array(complete, dtype=bool)
    frame = pl.DataFrame(
        {
            "triple_id": np.arange(pairs.height, dtype=np.int64),
            "text_pos": pairs["chosen"],
            "text_neu": pl.Series(neutral, dtype=pl.String),
            "text_neg": pl.Series(worse, dtype=pl.String),
            "grade": pl.Series(grades, dtype=pl.Int8),
        }
    )
    return frame.filter(pl.Series(keep)), len(rows) - sum(complete)


# --------------------------------------------------------------------------- stage


def rewrite_stage_triples(pairs: Any, cfg: TripleConfig, params: dict[str, Any]) -> Any:
    """LLM-rewrite triples of a seeded sample of pairs; usage is logged (calls, cache hits)."""
    import logging

    from prefscope.llm import backend_from_config

    rewrite = params["rewrite"]  # llm, cache_path, task_description (rule param)
    backend = backend_from_config(cfg.rewrite_backend, rewrite["llm"], rewrite["cache_path"])
    chosen = sample_pairs(pairs, cfg)
    task = rewrite["task_description"]
    triples, missing = llm_triples(
        chosen,
        lambda prompts, parse: backend.complete_many(
            [[{"role": "user", "content": p}] for p in prompts], parse=parse
        ),
        task=task,
        criterion=f"a clearly worse response than a good one, judged by: {task}",
        min_grade=cfg.min_grade,
    )
    logging.getLogger("prefscope.lfp.probe.triples").info(
        "%d of %d rewrites kept (grade >= %d; %d missing after repair retries); llm usage %s",
        triples.height,
        chosen.height,
        cfg.min_grade,
        missing,
        backend.usage(),
    )
    return triples
