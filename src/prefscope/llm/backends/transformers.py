"""A local causal LM through ``transformers`` (CPU-capable for small models).

The chat template is used when the tokenizer has one; otherwise the messages are laid out
as plain ``Role: text`` paragraphs ending with ``Assistant:``. Calls run one at a time (a
local model is compute-bound; threads would only contend for the same cores). Greedy
decoding at temperature 0, otherwise sampling seeded per call so answers are reproducible.
"""

from __future__ import annotations

import threading
from typing import Any

from prefscope.llm.budget import Budget
from prefscope.llm.cache import CallCache
from prefscope.llm.chat import ChatBackend, Completion, Messages
from prefscope.llm.config import BackendConfig


def plain_prompt(messages: Messages) -> str:
    """A template-free rendering of a conversation for base models."""
    parts = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join([*parts, "Assistant:"])


class TransformersBackend(ChatBackend):
    """``type: transformers`` — ``model`` is a local path or a hub id already in the cache."""

    def __init__(
        self, config: BackendConfig, *, cache: CallCache | None = None,
        budget: Budget | None = None,
    ) -> None:
        super().__init__(config, cache=cache, budget=budget)
        self._loaded: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    def load(self) -> tuple[Any, Any]:
        """(model, tokenizer), loaded on the first call that misses the cache."""
        if self._loaded is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            cfg = self.config
            tok = AutoTokenizer.from_pretrained(cfg.model, trust_remote_code=cfg.trust_remote_code)
            dtype = "auto" if cfg.dtype == "auto" else getattr(torch, cfg.dtype)
            model = AutoModelForCausalLM.from_pretrained(
                cfg.model, dtype=dtype, trust_remote_code=cfg.trust_remote_code
            )
            device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._loaded = (model.to(device).eval(), tok)
        return self._loaded

    def _generate(self, messages: Messages, sampling: dict[str, Any]) -> Completion:
        import torch

        with self._lock:
            model, tok = self.load()
            if getattr(tok, "chat_template", None):
                ids = tok.apply_chat_template(messages, add_generation_prompt=True,
                                              return_tensors="pt", return_dict=True)["input_ids"]
            else:
                ids = tok(plain_prompt(messages), return_tensors="pt")["input_ids"]
            ids = ids.to(model.device)
            temperature = float(sampling.get("temperature") or 0.0)
            kwargs: dict[str, Any] = {
                "max_new_tokens": int(sampling.get("max_completion_tokens", 256)),
                "do_sample": temperature > 0,
                "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None
                else tok.eos_token_id,
            }
            if temperature > 0:
                kwargs["temperature"] = temperature
                if "top_p" in sampling:
                    kwargs["top_p"] = float(sampling["top_p"])
                torch.manual_seed(int(sampling.get("seed", 0)))
            with torch.no_grad():
                out = model.generate(ids, attention_mask=torch.ones_like(ids), **kwargs)
            new = out[0, ids.shape[1]:]
            text = tok.decode(new, skip_special_tokens=True)
        return Completion(text=text, prompt_tokens=int(ids.shape[1]),
                          completion_tokens=int(new.shape[0]))
