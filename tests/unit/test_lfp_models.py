"""tiny-neox shapes and parameter count; layer discovery across architectures."""

import pytest

from prefscope.lfp.finetune.tiny_neox import (
    TinyNeoXConfig,
    build_model,
    encode_sentences,
    n_parameters,
)
from prefscope.lfp.finetune.tokenizer import train_tokenizer
from prefscope.lfp.models import base_kind, layer_modules, layer_path, mlp_module

TEXTS = ["the movie was great.", "the plot felt horrible at times.", "i would call it fine."] * 5


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS, vocab_size=300)


def test_tokenizer_specials_and_round_trip(tokenizer):
    assert tokenizer.eos_token == tokenizer.bos_token == "<|endoftext|>"
    assert tokenizer.pad_token == "<|pad|>" and tokenizer.padding_side == "left"
    ids = tokenizer("the movie was great.", add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == "the movie was great."


def test_tiny_neox_shapes_and_parameter_count(tokenizer):
    cfg = TinyNeoXConfig(n_layers=4, hidden_size=64, n_heads=4, intermediate_multiple=4)
    model = build_model(cfg, tokenizer)
    v, d = len(tokenizer), 64
    # per block: 2 LayerNorms (4d), qkv (3d^2 + 3d), out proj (d^2 + d), MLP (8d^2 + 5d)
    per_layer = 12 * d * d + 13 * d
    assert n_parameters(model) == 2 * v * d + 4 * per_layer + 2 * d
    assert model.config.use_parallel_residual
    assert model.config.rope_parameters["partial_rotary_factor"] == 0.25
    blocks = layer_modules(model)
    assert len(blocks) == 4 and layer_path(model) == "gpt_neox.layers"
    mlp = mlp_module(blocks[2])
    assert tuple(mlp.dense_h_to_4h.weight.shape) == (256, 64)
    ids, mask = encode_sentences(tokenizer, TEXTS[:2], max_length=32)
    assert ids.shape == mask.shape and int(mask[0].sum()) < int(mask[1].sum())
    assert int(ids[0, int(mask[0].sum()) - 1]) == tokenizer.eos_token_id
    logits = model(input_ids=ids, attention_mask=mask).logits
    assert tuple(logits.shape) == (2, ids.shape[1], v)


def test_layer_discovery_for_gpt_neo_and_llama():
    from transformers import GPTNeoConfig, GPTNeoForCausalLM, LlamaConfig, LlamaForCausalLM

    neo = GPTNeoForCausalLM(
        GPTNeoConfig(
            vocab_size=50,
            hidden_size=16,
            num_layers=2,
            num_heads=2,
            attention_types=[[["global"], 2]],
            max_position_embeddings=32,
        )
    )
    llama = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=50,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=3,
            num_attention_heads=2,
            num_key_value_heads=2,
        )
    )
    assert layer_path(neo) == "transformer.h" and len(layer_modules(neo)) == 2
    assert layer_path(llama) == "model.layers" and len(layer_modules(llama)) == 3
    assert mlp_module(layer_modules(llama)[0]) is llama.model.layers[0].mlp


def test_base_kind(tmp_path):
    assert base_kind("tiny-neox") == "tiny"
    assert base_kind(str(tmp_path)) == "local"
    assert base_kind("EleutherAI/pythia-70m") == "hub"
