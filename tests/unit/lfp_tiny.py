"""A tiny randomly initialised GPT-NeoX and a locally trained BPE tokenizer for LFP tests."""

from __future__ import annotations

from functools import lru_cache

SENTENCES = [
    "the movie was great fun",
    "the plot was awful and slow",
    "a superb cast in a dull story",
    "the ending felt ordinary",
    "what a terrible waste of time",
    "i loved the music",
] * 20


@lru_cache(maxsize=1)
def tiny_model_and_tokenizer():
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<|unk|>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>", "<|pad|>", "<|unk|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(SENTENCES, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|pad|>",
        unk_token="<|unk|>",
    )
    torch.manual_seed(0)
    config = GPTNeoXConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        rotary_pct=0.25,
    )
    model = GPTNeoXForCausalLM(config).eval()
    return model, tokenizer
