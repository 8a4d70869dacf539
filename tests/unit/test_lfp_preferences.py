"""Preference tables: HH split, branch-W pairs, toxic-dpo format, drops counted."""

import polars as pl
import pytest

from prefscope.errors import InputError
from prefscope.lfp.finetune.preferences import assign_split, normalise, split_hh

H = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: and then?\n\nAssistant:"


def test_split_hh_at_last_assistant_marker():
    assert split_hh(H + " sure thing") == (H, " sure thing")
    with pytest.raises(ValueError):
        split_hh("\n\nHuman: no answer")


def test_hh_format_counts_drops():
    frame = pl.DataFrame(
        {
            "chosen": [H + " yes", H + " same", H + " a", "\n\nHuman: x\n\nAssistant: b"],
            "rejected": [H + " no", H + " same", "\n\nHuman: other\n\nAssistant: c", H + " d"],
        }
    )
    out, counts = normalise(frame, "auto", "t.jsonl")
    assert counts["format"] == "hh"
    assert out.to_dicts() == [{"prompt": H, "chosen": " yes", "rejected": " no"}]
    assert counts["dropped_prompt_mismatch"] == 2
    assert counts["dropped_chosen_equals_rejected"] == 1


def test_pairs_format_orients_by_label_and_drops_ties():
    frame = pl.DataFrame(
        {
            "prompt": ["p1", "p2", "p3"],
            "response_A": ["a1", "a2", "a3"],
            "response_B": ["b1", "b2", "b3"],
            "label": [1, 0, None],
            "split": ["train", "val", "val"],
        },
        schema_overrides={"label": pl.Int8},
    )
    out, counts = normalise(frame, "auto", "pairs.parquet")
    assert out["chosen"].to_list() == ["a1", "b2"] and out["rejected"].to_list() == ["b1", "a2"]
    assert out["split"].to_list() == ["train", "eval"] and counts["dropped_no_label"] == 1


def test_prompt_chosen_rejected_and_errors():
    frame = pl.DataFrame({"prompt": ["p", "q"], "chosen": ["c", None], "rejected": ["r", "s"]})
    with pytest.raises(InputError, match=r"row 2.*'chosen'"):
        normalise(frame, "auto", "toxic.parquet")
    with pytest.raises(InputError, match="need prompt"):
        normalise(pl.DataFrame({"text": ["x"]}), "auto", "bad.csv")


def test_assign_split_is_seeded():
    frame = pl.DataFrame({"prompt": list("abcdefghij")})
    a, b = assign_split(frame, 0.3, 100, 1), assign_split(frame, 0.3, 100, 1)
    assert a.equals(b) and (a["split"] == "eval").sum() == 3
    assert (assign_split(frame, 0.5, 2, 1)["split"] == "eval").sum() == 2
