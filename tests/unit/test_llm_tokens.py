"""Branch L's token-level explain / simulate / relevance through the fake server."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from helpers.fake_openai import FakeOpenAI, Reply, openai_backend

from prefscope.llm import (
    backend_from_config,
    explain_tokens,
    relevance,
    simulate,
    simulation_score,
)
from prefscope.llm.prompts import SIMULATE_SYSTEM


def oracle(request) -> str:
    system = request["messages"][0]["content"]
    user = request["messages"][-1]["content"]
    if system == SIMULATE_SYSTEM:
        tokens = re.findall(r"^\d+\t(.*)$", user.split("<tokens>")[1], re.M)
        return json.dumps([10 if t.strip() == "good" else 0 for t in tokens])
    if "fine-tuned for this task" in user:
        return "Yes" if "positive" in user else "No."
    return "Positive words such as good."


@pytest.fixture
def chat(tmp_path):
    with FakeOpenAI(oracle) as server:
        cfg = {"cache": str(tmp_path / "llm.sqlite"),
               "backends": {"small": openai_backend(server, malformed_retries=0)}}
        backend = backend_from_config("small", cfg)
        backend.server = server
        yield backend


def test_explain_tokens(chat):
    assert explain_tokens(chat, [[("a", 0), (" good", 10)]]) == "Positive words such as good."
    sent = chat.server.requests[0]["messages"][1]["content"]
    assert "<text id=1>\na\t0\n good\t10\n</text>" in sent


def test_simulate_and_score(chat):
    seqs = [["a", " good", "day"], [], ["good"]]
    pred = simulate(chat, "good", seqs)
    assert pred == [[0.0, 10.0, 0.0], [], [10.0]]
    assert chat.server.calls == 2  # the empty text is not asked
    assert simulation_score(pred, [[0, 8, 1], [], [9]]) == pytest.approx(
        np.corrcoef([0, 10, 0, 10], [0, 8, 1, 9])[0, 1])


def test_simulate_malformed_gives_nan(chat):
    chat.server.push(Reply(content="[1, 2]"))  # wrong length, no repairs configured
    pred = simulate(chat, "x", [["a", "b", "c"]])
    assert len(pred[0]) == 3 and all(math.isnan(v) for v in pred[0])
    assert chat.usage()["missing"] == 1


def test_simulation_score_edge_cases():
    assert simulation_score([[1.0, math.nan, 3.0]], [[1, 100, 3]]) == pytest.approx(1.0)
    assert simulation_score([[5.0, 5.0]], [[0, 10]]) == 0.0  # constant prediction
    assert simulation_score([], []) == 0.0
    with pytest.raises(ValueError, match="2 predicted levels for 3 true levels"):
        simulation_score([[1, 2]], [[1, 2, 3]])


def test_relevance(chat):
    assert relevance(chat, "good words", "positive sentiment") is True
    assert relevance(chat, "commas", "helpful answers") is False
    chat.server.push(Reply(content="It depends"))
    assert relevance(chat, "maybe", "anything") is False
    assert relevance(chat, "  ", "anything") is False
    assert chat.server.calls == 3
