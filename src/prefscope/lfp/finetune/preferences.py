"""Preference tables for DPO, normalised to ``prompt, chosen, rejected, split``.

Accepted formats (``auto`` picks by columns):

* ``hh`` — Anthropic HH-RLHF: ``chosen`` and ``rejected`` are whole transcripts. Each is split
  at its last ``"\\n\\nAssistant:"``; the prompt is everything up to and including that marker
  (as the paper's ``get_hh``), the response the rest. Pairs whose two prompts differ are
  dropped and counted (their responses are not answers to one prompt).
* ``prompt_chosen_rejected`` — toxic-dpo-v0.2 and any standard DPO table.
* ``pairs`` — a branch-W ``pairs.parquet`` (``prompt, response_A, response_B, label``):
  label 1 -> A chosen, 0 -> B chosen; ties/other labels (null) have no chosen response and are
  dropped (counted). Its ``split`` column ("train"/"val") is kept as train/eval.

In every format pairs with ``chosen == rejected`` are dropped (counted), as in the paper.
Sources: a local ``.parquet``/``.jsonl``/``.json``/``.csv`` file, or ``hf:<owner>/<name>[:split]``
through ``datasets`` (needs the network or a warm cache; only when the config names one).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from prefscope.errors import InputError

log = logging.getLogger("prefscope.lfp.finetune.preferences")

HH_MARKER = "\n\nAssistant:"
FORMATS = ("auto", "hh", "prompt_chosen_rejected", "pairs")


def split_hh(transcript: str) -> tuple[str, str]:
    """(prompt through the last ``\\n\\nAssistant:``, the response after it)."""
    idx = transcript.rfind(HH_MARKER)
    if idx < 0:
        raise ValueError(f"no {HH_MARKER!r} in transcript")
    cut = idx + len(HH_MARKER)
    return transcript[:cut], transcript[cut:]


def read_table(source: str) -> Any:
    """A polars DataFrame from a local file or ``hf:<id>[:split]``."""
    import polars as pl

    if source.startswith("hf:"):
        from datasets import load_dataset

        name, _, split = source[3:].partition(":")
        return pl.from_arrow(load_dataset(name, split=split or "train").data.table)
    path = Path(source)
    if not path.exists():
        raise InputError("preference table not found", file=source)
    readers = {
        ".parquet": pl.read_parquet,
        ".jsonl": pl.read_ndjson,
        ".json": pl.read_json,
        ".csv": pl.read_csv,
    }
    if path.suffix not in readers:
        raise InputError(f"unknown extension {path.suffix!r} (parquet/jsonl/json/csv)", file=source)
    return readers[path.suffix](path)


def detect_format(columns: list[str], source: str) -> str:
    cols = set(columns)
    if {"prompt", "chosen", "rejected"} <= cols:
        return "prompt_chosen_rejected"
    if {"prompt", "response_A", "response_B", "label"} <= cols:
        return "pairs"
    if {"chosen", "rejected"} <= cols:
        return "hh"
    raise InputError(
        "need prompt/chosen/rejected, chosen/rejected (HH transcripts) or "
        f"prompt/response_A/response_B/label columns (have {sorted(cols)})",
        file=source,
    )


def _check_strings(frame: Any, columns: tuple[str, ...], source: str) -> None:
    for col in columns:
        bad = frame[col].is_null().arg_true()
        if len(bad):
            raise InputError("missing text", file=source, row=int(bad[0]) + 1, column=col)


def normalise(frame: Any, fmt: str, source: str) -> tuple[Any, dict[str, int]]:
    """``prompt, chosen, rejected`` (+ ``split`` for branch-W pairs) and drop counts."""
    import polars as pl

    fmt = detect_format(frame.columns, source) if fmt == "auto" else fmt
    counts = {"n_input": frame.height}
    if fmt == "pairs":
        keep = frame.filter(pl.col("label").is_in([0, 1]))
        counts["dropped_no_label"] = frame.height - keep.height
        _check_strings(keep, ("prompt", "response_A", "response_B"), source)
        a = pl.col("label") == 1
        cols = [
            "prompt",
            pl.when(a).then("response_A").otherwise("response_B").alias("chosen"),
            pl.when(a).then("response_B").otherwise("response_A").alias("rejected"),
        ]
        if "split" in keep.columns:
            cols.append(pl.col("split").replace({"val": "eval"}))
        out = keep.select(cols)
    elif fmt == "hh":
        _check_strings(frame, ("chosen", "rejected"), source)
        rows: dict[str, list[str]] = {"prompt": [], "chosen": [], "rejected": []}
        mismatched = 0
        for i, (c, r) in enumerate(zip(frame["chosen"], frame["rejected"], strict=True)):
            try:
                (pc, rc), (pr, rr) = split_hh(c), split_hh(r)
            except ValueError as err:
                raise InputError(str(err), file=source, row=i + 1, column="chosen") from err
            if pc != pr:
                mismatched += 1
                continue
            rows["prompt"].append(pc)
            rows["chosen"].append(rc)
            rows["rejected"].append(rr)
        counts["dropped_prompt_mismatch"] = mismatched
        out = pl.DataFrame(rows, schema=dict.fromkeys(rows, pl.String))
    elif fmt == "prompt_chosen_rejected":
        _check_strings(frame, ("prompt", "chosen", "rejected"), source)
        out = frame.select("prompt", "chosen", "rejected")
    else:
        raise InputError(f"unknown preference format {fmt!r} (one of {FORMATS})")
    same = out.filter(pl.col("chosen") == pl.col("rejected")).height
    out = out.filter(pl.col("chosen") != pl.col("rejected"))
    counts["dropped_chosen_equals_rejected"] = same
    counts["n_output"] = out.height
    counts["format"] = fmt  # type: ignore[assignment]
    if out.height == 0:
        raise InputError("no usable preference pairs", file=source)
    return out, counts


def assign_split(frame: Any, eval_fraction: float, max_eval: int, seed: int) -> Any:
    """Add a seeded ``split`` column (train/eval) unless the table already has one."""
    import polars as pl

    if "split" in frame.columns:
        return frame
    n_eval = min(max_eval, round(frame.height * eval_fraction))
    split = np.array(["train"] * frame.height, dtype=object)
    split[np.random.default_rng(seed).choice(frame.height, size=n_eval, replace=False)] = "eval"
    return frame.with_columns(pl.Series("split", split.tolist(), dtype=pl.String))


def load_preferences(
    source: str, fmt: str, eval_fraction: float, max_eval: int, seed: int
) -> tuple[Any, dict[str, Any]]:
    """Read, normalise and split a preference source; returns (table, provenance)."""
    frame, counts = normalise(read_table(source), fmt, source)
    frame = assign_split(frame, eval_fraction, max_eval, seed)
    counts["n_train"] = int((frame["split"] == "train").sum())
    counts["n_eval"] = int((frame["split"] == "eval").sum())
    log.info("preferences from %s: %s", source, counts)
    return frame.with_row_index("pair_id").cast({"pair_id": int}), {"source": source, **counts}


def read_preference_pairs(path: str | Path) -> Any:
    """``prompt, chosen, rejected`` from a DPO table or a branch-W pairs table.

    Branch-W rows (``response_A/response_B/label``) are oriented by the label (1 = A
    preferred); rows without a label (ties) are dropped: they have no chosen response.
    """
    import polars as pl

    frame = pl.read_parquet(path) if str(path).endswith(".parquet") else pl.read_ndjson(path)
    cols = set(frame.columns)
    if {"prompt", "chosen", "rejected"} <= cols:
        return frame.select("prompt", "chosen", "rejected")
    if {"prompt", "response_A", "response_B", "label"} <= cols:
        labelled = frame.filter(pl.col("label").is_not_null())
        a_wins = pl.col("label") == 1
        return labelled.select(
            "prompt",
            pl.when(a_wins).then("response_A").otherwise("response_B").alias("chosen"),
            pl.when(a_wins).then("response_B").otherwise("response_A").alias("rejected"),
        )
    raise InputError(
        f"need prompt/chosen/rejected or prompt/response_A/response_B/label (have {sorted(cols)})",
        file=str(path),
    )
