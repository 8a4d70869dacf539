"""Synthetic preference pairs with planted concepts: the demo's ground truth.

Each response is built from topic advice plus binary *concepts* (list formatting, apology,
refusal, a question back to the user, a citation/URL, bold markdown) and a length. Labels
come from a logistic model of the concept differences (A minus B) and the word-count
difference, with known weights, some of them zero. Because the truth is planted, the
workflow's output can be checked: every concept with a nonzero weight should be found by
an SAE feature whose label effect has the planted sign, and no zero-weight concept should
look significant.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from prefscope.data import demo_text as T

CONCEPTS = ("bullets", "apology", "refusal", "question", "citation", "bold")


@dataclass(frozen=True)
class DemoTruth:
    """Planted weights (log-odds of A winning per unit of A-minus-B) and prevalences."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "bullets": 1.0,
            "apology": -0.9,
            "refusal": -1.5,
            "question": 0.0,
            "citation": 0.0,
            "bold": 0.8,
        }
    )
    prevalence: dict[str, float] = field(
        default_factory=lambda: {
            "bullets": 0.25,
            "apology": 0.2,
            "refusal": 0.12,
            "question": 0.2,
            "citation": 0.2,
            "bold": 0.2,
        }
    )
    length_weight: float = 0.25  # log-odds per 10 words of length difference
    intercept: float = 0.0
    tie_fraction: float = 0.04  # labels replaced by null ("tie") at random
    duplicate_fraction: float = 0.02  # rows repeated (half of them with A and B swapped)


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


def _bolden(sentence: str, rng: np.random.Generator) -> str:
    """Mark a few words of a sentence as **bold** (the phrase varies, the markup is the concept)."""
    words = sentence.split(" ")
    if len(words) < 4:
        return f"**{sentence}**"
    start = int(rng.integers(0, len(words) - 2))
    span = int(rng.integers(1, 3))
    words[start] = "**" + words[start]
    words[start + span] = words[start + span] + "**"
    return " ".join(words)


def compose_response(
    topic: str, concepts: dict[str, bool], tips: list[tuple[str, int]], rng: np.random.Generator
) -> str:
    """Render one response; ``concepts`` says which planted concepts it shows."""
    if concepts["refusal"]:
        body = [T.REFUSALS[rng.integers(len(T.REFUSALS))] + T.REFUSAL_TAILS[rng.integers(3)]]
    else:
        body = []
    sentences = [T.SENTENCES[wrapper].format(tip=tip) for tip, wrapper in tips]
    if concepts["bold"] and sentences:
        for i in rng.choice(len(sentences), size=min(2, len(sentences)), replace=False):
            sentences[i] = _bolden(sentences[i], rng)
    elif concepts["bold"]:
        body[0] = _bolden(body[0], rng)
    parts: list[str] = []
    if concepts["apology"]:
        parts.append(T.APOLOGIES[rng.integers(len(T.APOLOGIES))])
    parts.extend(body)
    if sentences:
        if concepts["bullets"]:
            marker = T.LIST_MARKERS[rng.integers(len(T.LIST_MARKERS))]
            intro = T.LIST_INTROS[rng.integers(len(T.LIST_INTROS))]
            parts.append(intro + "\n" + "\n".join(marker + s for s in sentences))
        else:
            parts.append(" ".join(sentences))
    if concepts["citation"]:
        parts.append(_citation(rng))
    if concepts["question"]:
        parts.append(T.QUESTIONS[rng.integers(len(T.QUESTIONS))])
    return "\n\n".join(parts) if concepts["bullets"] else " ".join(parts)


def _shared_tips(
    topic: str, rng: np.random.Generator
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Advice (tip, phrasing) for A and B on one topic.

    The two answers share most advice and its phrasing, as two drafts of one answer do, and
    differ by one tip in a quarter of pairs, so that the planted concepts rather than the
    content dominate the difference A - B."""
    pool = list(T.TOPICS[topic])
    order = [(pool[i], int(rng.integers(len(T.SENTENCES)))) for i in rng.permutation(len(pool))]
    n = int(rng.integers(1, 4))
    tips_a = order[:n]
    tips_b = list(tips_a)
    move = rng.random()
    if move < 1 / 8 and len(tips_b) > 1:
        tips_b.pop(int(rng.integers(len(tips_b))))
    elif move < 1 / 4:
        tips_b.append(order[n])
    return tips_a, tips_b


def _draw_concepts(rng: np.random.Generator, truth: DemoTruth) -> dict[str, bool]:
    drawn = {c: bool(rng.random() < truth.prevalence[c]) for c in CONCEPTS}
    if drawn["refusal"]:
        drawn["bullets"] = False  # a refusal has no advice to list
    return drawn


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
        tips_a, tips_b = _shared_tips(topic, rng)
        ra = compose_response(topic, ca, tips_a, rng)
        rb = compose_response(topic, cb, tips_b, rng)
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
        "settings": asdict(truth),
        "n_pairs": n_pairs,
        "seed": seed,
    }
    return pairs, indicators, summary
