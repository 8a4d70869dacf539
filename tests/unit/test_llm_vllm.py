"""The vllm backend: imported lazily, a clear error without vllm, batching with a stub engine."""

from __future__ import annotations

import subprocess
import sys
import types
from typing import ClassVar

import pytest

from prefscope.errors import BudgetExceeded
from prefscope.llm import backend_from_config

CFG = {"cache": None, "backends": {"gpu": {"type": "vllm", "model": "/models/x",
                                           "max_completion_tokens": 8}}}


def test_import_prefscope_llm_imports_no_heavy_client():
    code = ("import sys, prefscope, prefscope.llm; "
            "print(sorted(m for m in ('vllm', 'openai', 'torch', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_missing_vllm_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    chat = backend_from_config("gpu", CFG)  # building needs no vllm
    with pytest.raises(RuntimeError, match=r"pip install 'prefscope\[vllm\]'.*vllm serve"):
        chat.complete([{"role": "user", "content": "hi"}])


class StubLLM:
    """Stands in for ``vllm.LLM``: answers every conversation with its word count."""

    batches: ClassVar[list[int]] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def chat(self, conversations, params, use_tqdm=False):
        StubLLM.batches.append(len(conversations))
        out = []
        for conv in conversations:
            n = len(conv[-1]["content"].split())
            first = types.SimpleNamespace(text=f"{n} words", token_ids=[1, 2])
            out.append(types.SimpleNamespace(outputs=[first], prompt_token_ids=[0] * n))
        return out


@pytest.fixture
def stub_vllm(monkeypatch):
    module = types.SimpleNamespace(LLM=StubLLM, SamplingParams=lambda **kw: kw)
    monkeypatch.setitem(sys.modules, "vllm", module)
    StubLLM.batches = []
    return module


def test_batches_go_to_the_engine_at_once(stub_vllm):
    chat = backend_from_config("gpu", CFG)
    convs = [[{"role": "user", "content": "a " * n}] for n in (1, 2, 3)]
    assert chat.complete_many(convs) == ["1 words", "2 words", "3 words"]
    assert StubLLM.batches == [3]
    assert chat._engine.kwargs["tensor_parallel_size"] == 1
    usage = chat.usage()
    assert (usage["calls"], usage["prompt_tokens"], usage["completion_tokens"]) == (3, 6, 6)


def test_budget_admits_what_fits_then_stops(stub_vllm):
    chat = backend_from_config("gpu", {**CFG, "max_calls": 2})
    convs = [[{"role": "user", "content": f"w{i}"}] for i in range(3)]
    with pytest.raises(BudgetExceeded, match=r"llm\.max_calls = 2"):
        chat.complete_many(convs)
    assert StubLLM.batches == [2] and chat.usage()["calls"] == 2
