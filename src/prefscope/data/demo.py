"""Synthetic preference pairs with planted concepts: the demo's ground truth.

Each response is built from topic advice plus binary *concepts* (list formatting, apology,
refusal, a question back to the user, a citation/URL, bold markdown) and a length. Labels
come from a logistic model of the concept differences (A minus B) and the word-count
difference, with known weights, some of them zero. Because the truth is planted, the
workflow's output can be checked: every concept with a nonzero weight should be found by
an SAE feature whose label effect has the planted sign, and no zero-weight concept should
look significant.

The two responses of a pair are two drafts of one answer: same advice (bar one tip in a few
pairs) and, for every concept, the same wording, drawn once per pair (:class:`_Wording`). A
concept both drafts show then cancels in the embedding difference A - B, which carries the
concepts in which they differ and little else. Across pairs the wording varies (see
``demo_text``), so no single token gives a concept away.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from prefscope.data import demo_text as T

CONCEPTS = ("bullets", "apology", "refusal", "question", "citation", "bold")


@dataclass(frozen=True)
class DemoTruth:
    """Planted weights (log-odds of A winning per unit of A-minus-B) and prevalences.

    The analysis controls for the word-count difference, and every concept but bold adds
    words. At a fixed length difference, words one concept adds mean fewer words from the
    others, so a zero-weight concept would inherit the effects of the wordy weighted ones.
    The weights, prevalences and phrase lengths are chosen so that those cancel (the sum
    over weighted concepts of weight x words added x variance of the A-B indicator is about
    zero): the zero-weight concepts are null given length too, not only marginally.
    """

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "bullets": 1.1,
            "apology": -0.7,
            "refusal": -1.0,
            "question": 0.0,
            "citation": 0.0,
            "bold": 0.8,
        }
    )
    prevalence: dict[str, float] = field(
        default_factory=lambda: {
            "bullets": 0.2,
            "apology": 0.15,
            "refusal": 0.1,
            "question": 0.25,
            "citation": 0.15,
            "bold": 0.15,
        }
    )
    length_weight: float = 0.25  # log-odds per 10 words of length difference
    intercept: float = 0.0
    tie_fraction: float = 0.04  # labels replaced by null ("tie") at random
    duplicate_fraction: float = 0.02  # rows repeated (half of them with A and B swapped)
    tip_change_fraction: float = 0.1  # pairs whose answers differ by one piece of advice

    @classmethod
    def from_config(cls, overrides: dict | None) -> DemoTruth:
        """The default truth with ``weights`` / ``prevalence`` entries and scalar settings
        replaced (config ``datasets.<ds>.demo.truth``); unknown concepts are an error."""
        overrides = dict(overrides or {})
        base = cls()
        fields = {}
        for name in ("weights", "prevalence"):
            given = overrides.pop(name, None) or {}
            unknown = set(given) - set(CONCEPTS)
            if unknown:
                raise ValueError(f"unknown demo concept(s) in {name}: {sorted(unknown)}")
            fields[name] = {**getattr(base, name), **{k: float(v) for k, v in given.items()}}
        unknown = set(overrides) - set(asdict(base))
        if unknown:
            raise ValueError(f"unknown demo truth setting(s): {sorted(unknown)}")
        fields.update({k: float(v) for k, v in overrides.items()})
        return cls(**fields)


def concept_phrases() -> dict[str, list[str]]:
    """The phrases (or markup) that render each concept, written to the truth file so that a
    feature description can be checked against them (does it name the concept?)."""
    citation_words = [t.split("{")[0].strip() for t in T.CITATIONS]
    return {
        "bullets": [m.strip() for m in T.LIST_MARKERS] + list(T.LIST_INTROS),
        "apology": list(T.APOLOGIES),
        "refusal": [part for parts in T.REFUSAL_PARTS for part in parts],
        "question": list(T.QUESTIONS),
        "citation": ["https://", *citation_words, *T.SITES, *T.JOURNALS],
        "bold": ["**"],
    }


@dataclass(frozen=True)
class _Wording:
    """How one pair words each concept. Drawn once per pair and shared by A and B, as two
    drafts of one answer word what they share alike: a concept both responses show then
    cancels in the difference A - B, and only the concepts in which they differ remain."""

    apology: str
    refusal: str
    question: str
    citation: str
    list_marker: str
    list_intro: str
    bold_seed: int


def _citation(rng: np.random.Generator) -> str:
    template = T.CITATIONS[rng.integers(len(T.CITATIONS))]
    return template.format(
        site=T.SITES[rng.integers(len(T.SITES))],
        slug=T.SLUGS[rng.integers(len(T.SLUGS))],
        author=T.AUTHORS[rng.integers(len(T.AUTHORS))],
        year=int(rng.integers(1995, 2025)),
        journal=T.JOURNALS[rng.integers(len(T.JOURNALS))],
        num=int(rng.integers(1000, 9999)),
    )


def _draw_wording(rng: np.random.Generator) -> _Wording:
    def pick(bank: Sequence[str]) -> str:
        return bank[rng.integers(len(bank))]

    return _Wording(
        apology=pick(T.APOLOGIES),
        refusal=" ".join(pick(part) for part in T.REFUSAL_PARTS),
        question=pick(T.QUESTIONS),
        citation=_citation(rng),
        list_marker=pick(T.LIST_MARKERS),
        list_intro=pick(T.LIST_INTROS),
        bold_seed=int(rng.integers(2**31)),
    )


def _bolden(sentence: str, seed: int) -> str:
    """Mark a few words of a sentence as **bold** (the phrase varies, the markup is the
    concept). The span depends on the sentence and the pair's seed only, so a sentence both
    responses share is bolded alike."""
    rng = np.random.default_rng([seed, zlib.crc32(sentence.encode())])
    words = sentence.split(" ")
    if len(words) < 4:
        return f"**{sentence}**"
    span = int(rng.integers(2, 4))
    start = int(rng.integers(0, len(words) - span + 1))
    words[start] = "**" + words[start]
    words[start + span - 1] = words[start + span - 1] + "**"
    return " ".join(words)


def compose_response(
    topic: str, concepts: dict[str, bool], tips: list[tuple[str, int]], wording: _Wording
) -> str:
    """Render one response; ``concepts`` says which planted concepts it shows."""
    body = [wording.refusal] if concepts["refusal"] else []
    sentences = [T.SENTENCES[wrapper].format(tip=tip) for tip, wrapper in tips]
    if concepts["bold"]:
        if sentences:
            sentences = [_bolden(s, wording.bold_seed) for s in sentences]
        else:
            body = [_bolden(b, wording.bold_seed) for b in body]
    parts: list[str] = []
    if concepts["apology"]:
        parts.append(wording.apology)
    parts.extend(body)
    if sentences:
        if concepts["bullets"]:
            items = "\n".join(wording.list_marker + s for s in sentences)
            parts.append(wording.list_intro + "\n" + items)
        else:
            parts.append(" ".join(sentences))
    if concepts["citation"]:
        parts.append(wording.citation)
    if concepts["question"]:
        parts.append(wording.question)
    return "\n\n".join(parts) if concepts["bullets"] else " ".join(parts)


def _shared_tips(
    topic: str, rng: np.random.Generator, change: float
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Advice (tip, phrasing) for A and B on one topic.

    The two answers share most advice and its phrasing, as two drafts of one answer do, and
    differ by one tip in a fraction ``change`` of pairs, so that the planted concepts rather
    than the content dominate the difference A - B."""
    pool = list(T.TOPICS[topic])
    order = [(pool[i], int(rng.integers(len(T.SENTENCES)))) for i in rng.permutation(len(pool))]
    n = int(rng.integers(1, 4))
    tips_a = order[:n]
    tips_b = list(tips_a)
    move = rng.random()
    if move < change / 2 and len(tips_b) > 1:
        tips_b.pop(int(rng.integers(len(tips_b))))
    elif move < change:
        tips_b.append(order[n])
    return tips_a, tips_b


def _draw_concepts(rng: np.random.Generator, truth: DemoTruth) -> dict[str, bool]:
    return {c: bool(rng.random() < truth.prevalence[c]) for c in CONCEPTS}


def generate_demo(
    n_pairs: int, seed: int, truth: DemoTruth | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Return (pairs, per-row concept indicators, truth summary).

    ``pairs`` has the input schema (prompt, response_A, response_B, label); the indicator
    table has ``pair_id`` plus ``<concept>_A`` / ``<concept>_B`` / ``<concept>_delta`` columns
    and ``logit`` (the planted log-odds of A winning).
    """
    truth = truth or DemoTruth()
    rng = np.random.default_rng(seed)
    topics = sorted(T.TOPICS)
    rows: list[dict] = []
    concept_rows: list[dict] = []
    n_unique = round(n_pairs * (1 - truth.duplicate_fraction))
    for _ in range(n_unique):
        topic = topics[rng.integers(len(topics))]
        prompt = T.PROMPTS[rng.integers(len(T.PROMPTS))].format(topic=topic)
        ca, cb = _draw_concepts(rng, truth), _draw_concepts(rng, truth)
        tips_a, tips_b = _shared_tips(topic, rng, truth.tip_change_fraction)
        wording = _draw_wording(rng)
        ra = compose_response(topic, ca, tips_a, wording)
        rb = compose_response(topic, cb, tips_b, wording)
        dlen = len(ra.split()) - len(rb.split())
        logit = truth.intercept + truth.length_weight * dlen / 10.0
        logit += sum(truth.weights[c] * (int(ca[c]) - int(cb[c])) for c in CONCEPTS)
        label: int | None = int(rng.random() < 1.0 / (1.0 + np.exp(-logit)))
        if rng.random() < truth.tie_fraction:
            label = None
        rows.append({"prompt": prompt, "response_A": ra, "response_B": rb, "label": label})
        record = {"logit": float(logit)}
        for c in CONCEPTS:
            record[f"{c}_A"], record[f"{c}_B"] = int(ca[c]), int(cb[c])
        concept_rows.append(record)
    # Duplicates: repeated comparisons, half presented with A and B swapped.
    for _ in range(n_pairs - n_unique):
        i = int(rng.integers(n_unique))
        row, rec = dict(rows[i]), dict(concept_rows[i])
        if rng.random() < 0.5:
            row["response_A"], row["response_B"] = row["response_B"], row["response_A"]
            row["label"] = None if row["label"] is None else 1 - row["label"]
            rec["logit"] = -rec["logit"]
            for c in CONCEPTS:
                rec[f"{c}_A"], rec[f"{c}_B"] = rec[f"{c}_B"], rec[f"{c}_A"]
        rows.append(row)
        concept_rows.append(rec)
    pairs = pl.DataFrame(
        rows,
        schema={"prompt": pl.String, "response_A": pl.String, "response_B": pl.String,
                "label": pl.Int8},
    )
    indicators = pl.DataFrame(concept_rows).with_columns(
        [(pl.col(f"{c}_A") - pl.col(f"{c}_B")).alias(f"{c}_delta") for c in CONCEPTS]
    )
    indicators = indicators.with_row_index("pair_id").with_columns(pl.col("pair_id").cast(pl.Int64))
    summary = {
        "concepts": list(CONCEPTS),
        "weights": dict(truth.weights),
        "length_weight_per_10_words": truth.length_weight,
        "phrases": concept_phrases(),
        "settings": asdict(truth),
        "n_pairs": n_pairs,
        "seed": seed,
    }
    return pairs, indicators, summary
