"""Probe inputs: concatenated SAE codes of the chosen layers, and the activation deltas.

For an input text, ``A(x)`` concatenates, over the chosen layers in ascending numeric order
(the reference sorted layer *names*, so ``layers.10`` came before ``layers.7``), the small
SAE's code of the MLP output — averaged over the substituted word's sub-tokens (VADER task)
or over every real token (preference pairs; pads never count). Sub-tokens are located by the
tokenizer's character offsets overlapping the word's character span, never by matching
decoded token strings (which breaks on byte-level markers and on words split differently
in context). Codes are averaged per token *after* encoding, as in the paper.

Deltas: ``Δ+ = ‖A(x+) − A(x0)‖`` and ``Δ− = −‖A(x−) − A(x0)‖``. The probe sees ``A(x+)``
with target ``Δ+`` and ``A(x−)`` with target ``Δ−``.

Activations come from the fine-tuned model (the reference probed the *base* model through
the fine-tuned model's SAEs).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from prefscope.errors import InputError

log = logging.getLogger("prefscope.lfp.probe.deltas")


@dataclass(frozen=True)
class DeltaConfig:
    batch_size: int = 32
    max_length: int = 128


def token_span(offsets: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    """Positions of the tokens whose character range overlaps ``[start, end)``.

    Works whether or not the tokenizer trims the leading space from offsets (a token
    ``" great"`` at (9, 15) or (10, 15) both overlap the word at (10, 15)); special and pad
    tokens have empty ranges and never overlap.
    """
    return [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]


def token_codes(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    spans: Sequence[tuple[int, int]] | None,
    layers: Sequence[int],
    saes: dict[int, Any],
    cfg: DeltaConfig,
    *,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean SAE code per text over its span tokens (or all real tokens when ``spans`` is None).

    Returns ``(codes [n_texts, sum_M], found [n_texts] bool)``; a text whose span has no
    token (e.g. truncated away) gets zeros and ``found=False``.
    """
    import torch

    from prefscope.lfp.harvest.activations import captured_batches
    from prefscope.sae import encode

    widths = [int(saes[layer].decoder_directions().shape[0]) for layer in layers]
    out = np.zeros((len(texts), sum(widths)), dtype=np.float32)
    found = np.zeros(len(texts), dtype=bool)
    batches = captured_batches(
        model,
        tokenizer,
        texts,
        layers,
        cfg.batch_size,
        cfg.max_length,
        offsets=spans is not None,
        desc="codes",
        progress=progress,
    )
    for s, enc, captured in batches:
        chunk = range(len(enc["input_ids"]))  # this batch's rows
        mask = enc["attention_mask"]
        rows, cols, owner = [], [], []
        for b in range(len(chunk)):
            if spans is None:
                pos = torch.nonzero(mask[b], as_tuple=True)[0].tolist()
            else:
                offsets = enc["offset_mapping"][b].tolist()
                real = mask[b].tolist()
                pos = [p for p in token_span(offsets, *spans[s + b]) if real[p]]
            rows += [b] * len(pos)
            cols += pos
            owner += [s + b] * len(pos)
        if not owner:
            continue
        owner_arr = np.asarray(owner)
        counts = np.bincount(owner_arr - s, minlength=len(chunk)).astype(np.float32)
        found[s : s + len(chunk)] = counts > 0
        offset = 0
        for layer, width in zip(layers, widths, strict=True):
            acts = captured[layer][rows, cols].float().cpu().numpy()
            codes = encode(saes[layer], acts)
            summed = np.zeros((len(chunk), width), dtype=np.float32)
            np.add.at(summed, owner_arr - s, codes)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = summed / np.maximum(counts, 1.0)[:, None]
            out[s : s + len(chunk), offset : offset + width] = mean
            offset += width
    return out, found


def activation_deltas(a_pos: np.ndarray, a_neu: np.ndarray, a_neg: np.ndarray):
    """``(Δ+, Δ−)`` per triple: ``‖A+ − A0‖`` (≥ 0) and ``−‖A− − A0‖`` (≤ 0)."""
    d_pos = np.linalg.norm(a_pos - a_neu, axis=1)
    d_neg = -np.linalg.norm(a_neg - a_neu, axis=1)
    return d_pos.astype(np.float64), d_neg.astype(np.float64)


def build_inputs(
    model: Any,
    tokenizer: Any,
    triples: Any,
    layers: Sequence[int],
    saes: dict[int, Any],
    task: str,
    cfg: DeltaConfig,
) -> tuple[np.ndarray, Any]:
    """Probe inputs ``X`` and their table (one row per positive and per negative member)."""
    import polars as pl

    kinds = ("pos", "neu", "neg")
    codes, found = {}, {}
    for kind in kinds:
        texts = triples[f"text_{kind}"].to_list()
        spans = None
        if task == "vader":
            spans = list(
                zip(triples["start"].to_list(), triples[f"end_{kind}"].to_list(), strict=True)
            )
        codes[kind], found[kind] = token_codes(
            model, tokenizer, texts, spans, layers, saes, cfg, progress=True
        )
    ok = found["pos"] & found["neu"] & found["neg"]
    if not ok.any():
        raise InputError("no triple has all three members' tokens inside max_length")
    if (~ok).any():
        log.warning("%d triple(s) dropped: a member's word was truncated away", int((~ok).sum()))
    d_pos, d_neg = activation_deltas(codes["pos"], codes["neu"], codes["neg"])
    idx = np.nonzero(ok)[0]
    x = np.concatenate([codes["pos"][idx], codes["neg"][idx]]).astype(np.float32)
    n = len(idx)
    table: dict[str, Any] = {
        "input_id": np.arange(2 * n, dtype=np.int64),
        "triple_id": np.concatenate([triples["triple_id"].to_numpy()[idx]] * 2),
        "kind": ["pos"] * n + ["neg"] * n,
        "label": np.array([1] * n + [0] * n, dtype=np.int8),
        "delta": np.concatenate([d_pos[idx], d_neg[idx]]),
    }
    if task == "vader":
        table["word"] = [triples["word_pos"][int(i)] for i in idx] + [
            triples["word_neg"][int(i)] for i in idx
        ]
        table["value"] = np.concatenate(
            [triples["value_pos"].to_numpy()[idx], triples["value_neg"].to_numpy()[idx]]
        )
    return x, pl.DataFrame(table)
