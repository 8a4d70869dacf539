"""A byte-level BPE tokenizer trained locally (no hub) for the tiny demo model.

Byte-level BPE (GPT-2/Pythia style) can encode any text, so the same tokenizer also serves
preference pairs it never saw (they just split into more pieces). It is trained on the
review corpus only, which keeps the shared base model independent of branch-W datasets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

EOS = "<|endoftext|>"
PAD = "<|pad|>"
UNK = "<|unk|>"


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> Any:
    """A ``PreTrainedTokenizerFast`` with ``<|endoftext|>`` as BOS/EOS and ``<|pad|>``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS, PAD, UNK],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=EOS, eos_token=EOS, pad_token=PAD, unk_token=UNK
    )
    fast.padding_side = "left"  # generation and TRL's RL trainers want left padding
    return fast
