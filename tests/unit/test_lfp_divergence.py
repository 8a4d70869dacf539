"""Divergence on hand-made models: known weight changes give known per-layer norms."""

import copy

import pytest
import torch

from prefscope.lfp.layers.divergence import choose_layers, layer_divergence


@pytest.fixture(scope="module")
def base():
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    torch.manual_seed(0)
    cfg = GPTNeoXConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    return GPTNeoXForCausalLM(cfg)


def test_known_changes(base):
    tuned = copy.deepcopy(base)
    with torch.no_grad():
        tuned.gpt_neox.layers[1].mlp.dense_h_to_4h.weight[0, 0] += 3.0
        tuned.gpt_neox.layers[1].mlp.dense_4h_to_h.bias[2] -= 4.0
        tuned.gpt_neox.layers[2].attention.dense.weight[1, 1] += 2.0
        tuned.gpt_neox.embed_in.weight += 1.0  # outside every block: never counted
    rec = layer_divergence(base, tuned)
    assert [r["layer"] for r in rec] == [0, 1, 2]
    assert rec[0]["all_l2"] == 0.0 and rec[0]["mlp_l2"] == 0.0
    assert rec[1]["mlp_l2"] == pytest.approx(5.0, abs=1e-5)  # sqrt(3^2 + 4^2)
    assert rec[1]["all_l2"] == pytest.approx(5.0, abs=1e-5)
    assert rec[1]["sum_of_tensor_norms"] == pytest.approx(7.0, abs=1e-5)  # reference's sum
    assert rec[2]["all_l2"] == pytest.approx(2.0, abs=1e-6) and rec[2]["mlp_l2"] == 0.0
    assert rec[2]["submodule_l2"]["attention"] == pytest.approx(2.0, abs=1e-6)
    d = 16
    assert rec[0]["n_mlp_params"] == 2 * d * 32 + 32 + d
    assert choose_layers(rec, 2) == [1, 2]
    assert choose_layers(rec, 10) == [1, 2, 0]  # clipped to the layer count
    assert choose_layers(rec, 1, by="sum_of_tensor_norms") == [1]


def test_identical_models_and_mismatch(base):
    assert all(r["all_l2"] == 0.0 for r in layer_divergence(base, copy.deepcopy(base)))
    assert choose_layers(layer_divergence(base, base), 2) == [0, 1]  # ties -> lower index
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    other = GPTNeoXForCausalLM(
        GPTNeoXConfig(
            vocab_size=40,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
        )
    )
    with pytest.raises(ValueError, match="layers"):
        layer_divergence(base, other)
