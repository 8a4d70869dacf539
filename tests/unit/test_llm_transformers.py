"""The transformers backend on a tiny random GPT-NeoX with a tokenizer trained on the fly."""

from __future__ import annotations

import pytest

from prefscope.llm import backend_from_config
from prefscope.llm.backends.transformers import plain_prompt

TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def save_tiny_model(path, *, chat_template: str | None) -> str:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(
        ["the reply is short and kind", "user asks a question", "assistant answers it"] * 10,
        trainers.BpeTrainer(vocab_size=200, special_tokens=["<eos>", "<pad>", "<unk>"],
                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>", pad_token="<pad>",
                                  unk_token="<unk>")
    if chat_template:
        tok.chat_template = chat_template
    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(GPTNeoXConfig(
        vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=256, rotary_pct=0.25))
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


def test_plain_prompt():
    assert plain_prompt([{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Hi"}]) == (
        "System: Be brief.\n\nUser: Hi\n\nAssistant:")


@pytest.mark.parametrize("template", [None, TEMPLATE], ids=["plain", "chat-template"])
def test_generates_a_string_and_caches(tmp_path, template):
    path = save_tiny_model(tmp_path / "tiny", chat_template=template)
    cfg = {"cache": str(tmp_path / "llm.sqlite"), "backends": {"small": {
        "type": "transformers", "model": path, "device": "cpu", "max_completion_tokens": 6}}}
    messages = [{"role": "user", "content": "the user asks"}]
    chat = backend_from_config("small", cfg)
    text = chat.complete(messages)
    assert isinstance(text, str)
    usage = chat.usage()
    assert usage["calls"] == 1 and 1 <= usage["completion_tokens"] <= 6
    assert usage["prompt_tokens"] > 0
    again = backend_from_config("small", cfg)
    assert again.complete(messages) == text
    assert again._loaded is None  # served from the cache: the model was never loaded
    assert again.usage()["cache_hits"] == 1
