"""Ingest, validation, dedup and the component split, on exact small cases."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from prefscope.data.demo import CONCEPTS, generate_demo
from prefscope.data.ingest import mark_duplicates, read_table, validate_pairs
from prefscope.data.split import component_split, connected_components
from prefscope.data.stage import demo_pairs, ingest
from prefscope.errors import InputError


def _frame(**cols):
    return pl.DataFrame(cols)


def test_components_link_rows_sharing_any_split_column():
    frame = _frame(
        prompt=["p1", "p2", "p1", "p3", "p4"],
        conversation_id=["c1", "c2", "c3", "c2", None],
    )
    ids = connected_components(frame, ["prompt", "conversation_id"])
    assert ids[0] == ids[2]  # same prompt
    assert ids[1] == ids[3]  # same conversation
    assert len({ids[0], ids[1], ids[4]}) == 3  # a null shares nothing


def test_component_split_never_straddles_and_is_seeded():
    prompts = [f"p{i % 37}" for i in range(500)]
    frame = _frame(prompt=prompts)
    a = component_split(frame, ["prompt"], 0.8, seed=3)
    b = component_split(frame, ["prompt"], 0.8, seed=3)
    assert np.array_equal(a, b)
    by_prompt = (
        pl.DataFrame({"prompt": prompts, "train": a})
        .group_by("prompt")
        .agg(pl.col("train").n_unique())
    )
    assert by_prompt["train"].max() == 1
    assert 0.75 <= a.mean() <= 0.9


def test_dedup_flags_first_of_unordered_pair():
    frame = _frame(
        response_A=["x", "y", "x", "z", "x"],
        response_B=["y", "x", "y", "x", "z"],
    )
    assert mark_duplicates(frame)["dedup"].to_list() == [True, False, False, True, False]


def _valid(**over):
    cols = {
        "prompt": ["hi", "hello"],
        "response_A": ["one two three", "a"],
        "response_B": ["four", "b c"],
        "label": [1, 0],
    }
    cols.update(over)
    return pl.DataFrame(cols)


def test_validate_maps_labels_and_computes_length_delta():
    raw = _valid(label=["1", "tie"])
    out = validate_pairs(raw, "t.csv", {})
    assert out["label"].to_list() == [1, None]
    assert out["length_delta"].to_list() == [2.0, -1.0]


@pytest.mark.parametrize(
    ("over", "row", "column", "what"),
    [
        ({"label": [1, 2]}, 2, "label", "label must be"),
        ({"response_B": ["four", "   "]}, 2, "response_B", "empty"),
        ({"prompt": [None, "x"]}, 1, "prompt", "null"),
    ],
)
def test_bad_cells_name_file_row_and_column(over, row, column, what):
    with pytest.raises(InputError) as err:
        validate_pairs(_valid(**over), "data.jsonl", {})
    assert (err.value.file, err.value.row, err.value.column) == ("data.jsonl", row, column)
    assert what in str(err.value) and "data.jsonl" in str(err.value)


def test_missing_column_and_unreadable_file(tmp_path):
    with pytest.raises(InputError, match="missing required column") as err:
        validate_pairs(_valid().drop("label"), "d.parquet", {})
    assert err.value.column == "label"
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="cannot read") as err:
        read_table(str(bad))
    assert err.value.file == str(bad)


def test_column_mapping(tmp_path):
    raw = _valid().rename({"response_A": "chosen_first"})
    out = validate_pairs(raw, "x", {"response_A": "chosen_first"})
    assert out["response_A"].to_list() == ["one two three", "a"]


GOOD = {"prompt": "p", "response_A": "a", "response_B": "b", "label": 1}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"label": "maybe"}, r"row 2.*label"),
        ({"response_A": "  "}, r"row 2.*response_A"),
        ({"prompt": None}, r"row 2.*prompt"),
        ({"label": None, "drop": "label"}, r"label"),
        ("unreadable", r"cannot read"),
    ],
    ids=["bad-label", "empty-response", "null-prompt", "missing-column", "unreadable-file"],
)
def test_ingest_stage_names_the_problem_and_writes_nothing(tmp_path, bad, message):
    path = tmp_path / "pairs.jsonl"
    if bad == "unreadable":
        path.write_bytes(b"\x00\xff not json")
    else:
        drop = bad.pop("drop", None)
        rows = [dict(GOOD), {**GOOD, **bad}]
        if drop:
            rows = [{k: v for k, v in r.items() if k != drop} for r in rows]
        path.write_text("\n".join(json.dumps(r) for r in rows))
    outputs = {"pairs": tmp_path / "out/pairs.parquet", "stats": tmp_path / "out/stats.json"}
    params = {
        "source": str(path),
        "split_columns": ["prompt"],
        "train_fraction": 0.5,
        "seed": 0,
        "max_rows": None,
    }
    with pytest.raises(InputError, match=message) as err:
        ingest({"table": str(path)}, outputs, params, 1)
    assert str(path) in str(err.value)
    assert not outputs["pairs"].exists() and not outputs["stats"].exists()


def test_ingest_stage_csv_roundtrip(tmp_path):
    path = tmp_path / "pairs.csv"
    _valid(prompt=["same", "same"]).write_csv(path)
    outputs = {"pairs": tmp_path / "pairs.parquet", "stats": tmp_path / "stats.json"}
    params = {"source": str(path), "split_columns": ["prompt"], "train_fraction": 0.5,
              "seed": 0, "max_rows": None, "min_rows_per_class": 0}
    ingest({"table": str(path)}, outputs, params, 1)
    pairs = pl.read_parquet(outputs["pairs"])
    assert pairs["pair_id"].to_list() == [0, 1]
    assert pairs["split"].n_unique() == 1  # one prompt = one component
    stats = json.loads(outputs["stats"].read_text())
    assert stats["n_rows"] == 2 and stats["n_components"] == 1


def test_demo_is_seeded_and_plants_its_truth():
    p1, c1, t1 = generate_demo(400, seed=1)
    p2, _, _ = generate_demo(400, seed=1)
    assert p1.equals(p2)
    assert set(t1["weights"]) == set(CONCEPTS)
    assert sum(1 for w in t1["weights"].values() if w == 0) >= 2
    # the indicator table agrees with the text for an unambiguous concept
    for text, flag in zip(p1["response_A"], c1["bullets_A"], strict=True):
        has_list = any(line[:2] in ("- ", "* ", "• ") for line in text.split("\n"))
        assert has_list == bool(flag)
    # labels follow the planted logistic model: A wins more when its logit is higher
    logit = c1["logit"].to_numpy()
    lab = p1["label"].to_numpy()
    ok = ~np.isnan(lab.astype(float))
    assert lab[ok & (logit > 1)].mean() > lab[ok & (logit < -1)].mean() + 0.4


def test_demo_pairs_differ_only_where_their_concepts_or_advice_differ():
    # A and B share the wording of every concept, so a pair that shows the same concepts
    # on both sides is either identical or differs by one tip (and hence in length).
    pairs, concepts, _ = generate_demo(1500, seed=3)
    same = np.ones(pairs.height, dtype=bool)
    for c in CONCEPTS:
        same &= (concepts[f"{c}_A"] == concepts[f"{c}_B"]).to_numpy()
    assert same.sum() > 150
    for a, b in zip(
        pairs["response_A"].to_numpy()[same], pairs["response_B"].to_numpy()[same], strict=True
    ):
        assert a == b or len(a.split()) != len(b.split())
    identical = (pairs["response_A"] == pairs["response_B"]).to_numpy()
    assert identical[same].mean() > 0.8


def test_demo_zero_weight_concepts_stay_null_given_length():
    # The analysis controls for length; the planted weights and phrase lengths are balanced
    # so that holding length fixed does not hand a zero-weight concept an effect.
    pairs, concepts, truth = generate_demo(20000, seed=0)
    dlen = np.array(
        [
            len(a.split()) - len(b.split())
            for a, b in zip(pairs["response_A"], pairs["response_B"], strict=True)
        ],
        dtype=float,
    )
    logit = concepts["logit"].to_numpy()
    for c, w in truth["weights"].items():
        x = concepts[f"{c}_delta"].to_numpy().astype(float)
        design = np.column_stack([x, dlen, np.ones_like(dlen)])
        coef = np.linalg.lstsq(design, logit, rcond=None)[0][0]
        if w == 0:
            assert abs(coef) < 0.05, (c, coef)
        else:
            assert np.sign(coef) == np.sign(w), (c, coef)


def test_demo_weights_from_config_override_only_the_named_concepts(tmp_path):
    outputs = {k: tmp_path / f"{k}.{ext}" for k, ext in
               [("table", "parquet"), ("concepts", "parquet"), ("truth", "json")]}  # fmt: skip
    demo_pairs(
        {}, outputs, {"n_pairs": 200, "seed": 3, "truth": {"weights": {"bold": -0.8}}}, threads=1
    )
    truth = json.loads(outputs["truth"].read_text())
    assert truth["weights"]["bold"] == -0.8 and truth["weights"]["bullets"] == 1.1
    flipped = pl.read_parquet(outputs["concepts"])
    _, default, _ = generate_demo(200, 3)
    # same draws; only the planted log-odds of bold differ (by -1.6 per unit of bold_delta)
    assert flipped["bold_delta"].equals(default["bold_delta"])
    np.testing.assert_allclose(
        flipped["logit"] - default["logit"], -1.6 * default["bold_delta"], atol=1e-12
    )
    with pytest.raises(InputError, match="humour"):
        demo_pairs(
            {}, outputs, {"n_pairs": 200, "seed": 3, "truth": {"weights": {"humour": 1.0}}}, 1
        )


def test_ingest_components_link_repeated_pairs_even_across_prompts(tmp_path):
    path = tmp_path / "pairs.csv"
    frame = pl.DataFrame({
        "prompt": ["p1", "p2", "p3", "p1"], "response_A": ["a", "b", "x", "c"],
        "response_B": ["b", "a", "y", "d"], "label": [1, 0, 1, 0],
    })  # fmt: skip
    frame.write_csv(path)
    outputs = {"pairs": tmp_path / "pairs.parquet", "stats": tmp_path / "stats.json"}
    params = {"source": str(path), "split_columns": ["prompt"], "train_fraction": 0.5,
              "seed": 0, "max_rows": None, "min_rows_per_class": 0}  # fmt: skip
    ingest({"table": str(path)}, outputs, params, 1)
    comp = pl.read_parquet(outputs["pairs"])["component"].to_list()
    # rows 0 and 1 are one {a, b} pair (swapped), rows 0 and 3 share a prompt
    assert comp[0] == comp[1] == comp[3] and comp[2] != comp[0]


def test_demo_truth_overrides_change_labels_not_texts():
    from prefscope.data.demo import DemoTruth

    p1, _, _ = generate_demo(300, seed=2)
    truth = DemoTruth.from_config({"weights": {"question": 0.0, "apology": 2.0}})
    p2, _, t2 = generate_demo(300, seed=2, truth=truth)
    assert p1.drop("label").equals(p2.drop("label")) and not p1["label"].equals(p2["label"])
    assert t2["weights"]["apology"] == 2.0 and t2["weights"]["bullets"] == 1.1
    assert "sorry" in " ".join(t2["phrases"]["apology"]).lower()
    with pytest.raises(ValueError, match="unknown demo concept"):
        DemoTruth.from_config({"weights": {"emoji": 1.0}})
