"""The explain and fidelity stages end to end on a synthetic 300-row table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from prefscope.errors import InputError
from prefscope.interpret.stage import explain, fidelity
from prefscope.io import save_npy

FILLER = [
    "garden",
    "soil",
    "water",
    "plant",
    "seed",
    "sun",
    "leaf",
    "root",
    "pot",
    "rain",
    "light",
    "shade",
    "hose",
    "rake",
    "spade",
    "tomato",
    "bean",
    "pea",
    "onion",
    "mulch",
    "compost",
    "weed",
    "trowel",
    "fence",
    "path",
]
APOLOGY = "I am so sorry about that."
N, N_TRAIN = 300, 200


def make_inputs(tmp_path):
    """Pairs with an apology planted in A or B, and codes whose feature 0 is exactly that."""
    rng = np.random.default_rng(0)
    sorry_a, sorry_b = rng.random(N) < 0.3, rng.random(N) < 0.3

    def response(apologises):
        body = " ".join(rng.choice(FILLER, int(rng.integers(8, 16)))).capitalize() + "."
        return f"{APOLOGY} {body}" if apologises else body

    pairs = pl.DataFrame(
        {
            "pair_id": np.arange(N, dtype=np.int64),
            "prompt": [f'How do I grow "{rng.choice(FILLER)}"?' for _ in range(N)],
            "response_A": [response(s) for s in sorry_a],
            "response_B": [response(s) for s in sorry_b],
            "label": pl.Series(rng.integers(0, 2, N), dtype=pl.Int8),
            "length_delta": np.zeros(N),
            "split": ["train"] * N_TRAIN + ["val"] * (N - N_TRAIN),
            "dedup": [i % 50 != 7 for i in range(N)],
        }
    )
    codes = np.zeros((N, 5), dtype=np.float32)
    codes[:, 0] = (sorry_a.astype(float) - sorry_b) * (0.5 + rng.random(N))
    for j in (1, 2, 3):
        codes[:, j] = rng.normal(size=N) * (rng.random(N) < 0.15)
    # feature 4 never fires
    paths = {"pairs": tmp_path / "pairs.parquet", "codes": tmp_path / "sae" / "codes.npy"}
    pairs.write_parquet(paths["pairs"])
    save_npy(paths["codes"], codes)
    return pairs, codes, {k: str(v) for k, v in paths.items()}


PARAMS = {
    "backend": "lexical",
    "annotator": None,
    "n_candidates": 3,
    "n_examples": 12,
    "top_percentile": [90, 100],
    "max_words": 128,
    "seed": 0,
    "llm": {},
    "cache_path": None,
}
FIDELITY_PARAMS = {
    **PARAMS,
    "scoring_n_examples": 60,
    "concepts_per_call": 2,
    "fidelity_alpha": 0.05,
}


@pytest.fixture
def explained(tmp_path):
    pairs, codes, paths = make_inputs(tmp_path)
    out = tmp_path / "interpret" / "explanations.json"
    explain(paths, {"explanations": str(out)}, dict(PARAMS), 1)
    return pairs, codes, paths, json.loads(out.read_text()), out


def test_explain_writes_candidates_from_train_top_bin(explained):
    pairs, codes, _, doc, _ = explained
    assert set(doc) == {"features", "usage", "settings"}
    assert doc["settings"] == PARAMS
    assert doc["usage"] == {
        "backend": "lexical",
        "calls": 0,
        "cache_hits": 0,
        "cache_misses": 0,
        "tokens": 0,
        "cost_usd": 0.0,
    }
    features = doc["features"]
    assert [f["feature"] for f in features] == [0, 1, 2, 3, 4]
    train = (pairs["split"] == "train").to_numpy() & pairs["dedup"].to_numpy()
    for f in features[:4]:
        assert f["n_nonzero"] == int(np.count_nonzero(codes[train, f["feature"]]))
        assert len(f["candidates"]) == len(f["examples"]) == 3
        magnitude = np.abs(codes[train, f["feature"]])
        lo = np.percentile(magnitude[magnitude > 0], 90)
        for ids in f["examples"]:
            assert 0 < len(ids) <= 12
            assert train[ids].all()
            assert (np.abs(codes[ids, f["feature"]]) >= lo).all()
    assert features[4] == {"feature": 4, "candidates": [], "examples": [], "n_nonzero": 0}
    for candidate in features[0]["candidates"]:
        assert '"sorry"' in candidate and not candidate.startswith("uses fewer")
    assert features[0]["candidates"][0] == 'uses the words "sorry"'


def test_fidelity_stage_keeps_the_planted_feature(explained, tmp_path):
    pairs, codes, paths, _, out = explained
    outputs = {
        "table": str(tmp_path / "interpret" / "fidelity.parquet"),
        "stats": str(tmp_path / "interpret" / "fidelity.json"),
    }
    fidelity({**paths, "explanations": str(out)}, outputs, dict(FIDELITY_PARAMS), 1)
    table = pl.read_parquet(outputs["table"])
    assert table.columns == [
        "feature",
        "description",
        "label",
        "fidelity_r",
        "fidelity_p",
        "kept",
        "candidates",
        "candidate_r",
        "n_scored",
        "n_missing",
    ]
    assert table.schema["candidates"] == pl.List(pl.String)
    assert table.schema["candidate_r"] == pl.List(pl.Float64)
    planted = table.row(0, named=True)
    assert "sorry" in planted["description"] and planted["label"] == "sorry"
    assert planted["fidelity_r"] > 0.9 and planted["kept"]
    val = (pairs["split"] == "val").to_numpy() & pairs["dedup"].to_numpy()
    n_val_firing = int(np.count_nonzero(codes[val, 0]))
    assert n_val_firing == 33  # fewer than scoring_n_examples = 60: all of them are scored
    assert planted["n_scored"] == 33 and planted["n_missing"] == 0
    assert table.get_column("kept").to_list() == [True, False, False, False, False]
    stats = json.loads(Path(outputs["stats"]).read_text())
    assert stats["n_features"] == 5 and stats["n_kept"] == 1 and stats["n_described"] == 4
    assert stats["bonferroni_threshold"] == pytest.approx(0.01)
    r = table.get_column("fidelity_r").to_numpy()
    assert stats["mean_abs_r"] == pytest.approx(np.nanmean(np.abs(r)))
    assert stats["usage"]["annotator"]["backend"] == "lexical"
    assert set(stats["usage"]) == {"describer", "annotator"}


def test_stage_rejects_misaligned_codes(tmp_path):
    _, codes, paths = make_inputs(tmp_path)
    save_npy(paths["codes"], codes[:-1])
    with pytest.raises(InputError, match="codes have 299 rows but the pairs table has 300"):
        explain(paths, {"explanations": str(tmp_path / "e.json")}, dict(PARAMS), 1)
    assert not (tmp_path / "e.json").exists()
