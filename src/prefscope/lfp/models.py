"""Base-model resolution and architecture-agnostic access to transformer blocks.

``layer_modules(model)`` and ``mlp_module(layer)`` are the one place that knows where each
architecture keeps its blocks (divergence, harvesting hooks and ablation all use them):

=====================  ============================  =========
architecture           blocks                         MLP
=====================  ============================  =========
GPT-NeoX / Pythia      ``gpt_neox.layers.N``          ``.mlp``
GPT-Neo, GPT-2, GPT-J  ``transformer.h.N``            ``.mlp``
Llama, Gemma, Mistral  ``model.layers.N``             ``.mlp``
=====================  ============================  =========

Anything else falls back to the ``ModuleList`` whose length is ``config.num_hidden_layers``.
Weights are always loaded in fp32: divergence on quantised weights measures quantisation codes
(the reference's int8 bug), and bf16 rounding would swamp small RLHF updates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TINY = "tiny-neox"
BLOCK_PATHS = (
    "gpt_neox.layers",
    "transformer.h",
    "model.layers",
    "model.decoder.layers",
    "transformer.layers",
    "layers",
)
MLP_NAMES = ("mlp", "feed_forward", "ffn", "mlp_block")


def base_kind(spec: str) -> str:
    """``tiny`` (built here), ``local`` (an existing directory) or ``hub`` (a hub id)."""
    if spec == TINY:
        return "tiny"
    if Path(spec).expanduser().is_dir():
        return "local"
    return "hub"


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def layer_path(model: Any) -> str:
    """The dotted attribute path of the transformer blocks (``gpt_neox.layers`` …)."""
    import torch

    for path in BLOCK_PATHS:
        blocks = _get(model, path)
        if isinstance(blocks, torch.nn.ModuleList) and len(blocks) > 0:
            return path
    n = getattr(getattr(model, "config", None), "num_hidden_layers", None)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and n is not None and len(module) == n:
            return name
    raise ValueError(f"cannot find the transformer blocks of {type(model).__name__}")


def layer_modules(model: Any) -> list[Any]:
    """The transformer blocks, in depth order."""
    return list(_get(model, layer_path(model)))


def mlp_module(layer: Any) -> Any:
    """The MLP (feed-forward) sub-module of one block; its output is what the paper hooks."""
    for name in MLP_NAMES:
        module = getattr(layer, name, None)
        if module is not None:
            return module
    raise ValueError(f"no MLP sub-module ({'/'.join(MLP_NAMES)}) in {type(layer).__name__}")


def load_model(path: str, device: str | None = None) -> tuple[Any, Any]:
    """(causal LM in fp32, tokenizer with a pad token and left padding) from a dir or hub id."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token is None:  # Pythia / GPT-Neo ship without one
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return model.to(device).eval(), tokenizer


def save_model(model: Any, tokenizer: Any, path: str | Path) -> None:
    """``save_pretrained`` in fp32 (safetensors) plus the tokenizer."""
    import torch

    model.to(torch.float32).save_pretrained(str(path), safe_serialization=True)
    tokenizer.save_pretrained(str(path))


def first_tensor(output: Any) -> Any:
    """Some MLP modules return a tuple (output, bias); the activation is the first item."""
    return output[0] if isinstance(output, tuple) else output
