"""Harvesting: hooks never outlive the harvest, pads never reach the shards."""

from __future__ import annotations

import numpy as np
import pytest
from lfp_tiny import tiny_model_and_tokenizer

from prefscope.lfp.harvest.activations import (
    HarvestConfig,
    capture_mlp_outputs,
    count_forward_hooks,
    harvest,
    iter_batches,
    load_index,
    load_layer,
    load_manifest,
    write_shards,
)

TEXTS = ["the movie was great fun", "awful", "a superb cast in a dull story", "i loved it"]
LAYERS = [0, 2]


def test_no_hooks_remain_after_harvest_and_after_an_error():
    model, tok = tiny_model_and_tokenizer()
    assert count_forward_hooks(model) == 0
    harvest(model, tok, TEXTS, LAYERS, HarvestConfig(batch_size=2, dtype="float32"))
    assert count_forward_hooks(model) == 0
    with pytest.raises(RuntimeError), capture_mlp_outputs(model, LAYERS):
        assert count_forward_hooks(model) == len(LAYERS)
        raise RuntimeError("boom")
    assert count_forward_hooks(model) == 0


def test_pad_positions_are_excluded():
    model, tok = tiny_model_and_tokenizer()
    cfg32 = HarvestConfig(batch_size=4, dtype="float32")
    batched = harvest(model, tok, TEXTS, LAYERS, cfg32)
    singles = [
        harvest(model, tok, [t], LAYERS, HarvestConfig(batch_size=1, dtype="float32"))
        for t in TEXTS
    ]
    n_real = sum(len(tok(t)["input_ids"]) for t in TEXTS)
    lengths = {len(tok(t)["input_ids"]) for t in TEXTS}
    assert len(lengths) > 1  # the batch really is padded
    assert batched.seq.shape[0] == n_real
    assert not np.isin(batched.token, [tok.pad_token_id]).any()
    for layer in LAYERS:
        expected = np.concatenate([s.acts[layer] for s in singles])
        np.testing.assert_allclose(batched.acts[layer], expected, atol=1e-5)
    np.testing.assert_array_equal(
        np.bincount(batched.seq), [len(tok(t)["input_ids"]) for t in TEXTS]
    )


def test_shards_round_trip(tmp_path):
    model, tok = tiny_model_and_tokenizer()
    cfg = HarvestConfig(batch_size=1, dtype="float16", shard_tokens=6)
    full = harvest(model, tok, TEXTS, LAYERS, HarvestConfig(batch_size=1, dtype="float16"))
    manifest = write_shards(
        iter_batches(model, tok, TEXTS, LAYERS, cfg, progress=False), LAYERS, tmp_path, cfg
    )
    (tmp_path / "manifest.json").write_text(__import__("json").dumps(manifest))
    assert len(manifest["shards"]) > 1
    assert manifest["n_tokens"] == full.seq.shape[0]
    assert load_manifest(tmp_path)["d_model"] == 16
    np.testing.assert_array_equal(load_layer(tmp_path, 2), full.acts[2].astype(np.float32))
    np.testing.assert_array_equal(load_index(tmp_path)["seq"], full.seq)


def test_subsample_keeps_order_and_is_seeded():
    from prefscope.lfp.harvest.texts import subsample

    texts = [f"t{i}" for i in range(20)]
    assert subsample(texts, None, 0) == texts and subsample(texts, 20, 0) == texts
    picked = subsample(texts, 5, 3)
    assert len(picked) == 5 and picked == sorted(picked, key=texts.index)
    assert picked == subsample(texts, 5, 3) != subsample(texts, 5, 4)
