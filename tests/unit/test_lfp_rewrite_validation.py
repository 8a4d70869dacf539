"""Branch-L LLM rewrites are validated like other LLM stages: asked again, then missing."""

from __future__ import annotations

import polars as pl
from helpers.fake_openai import FakeOpenAI, openai_backend

from prefscope.lfp.probe.triples import TripleConfig, rewrite_stage_triples


def respond(request: dict) -> str:
    messages = request["messages"]
    user = messages[0]["content"]
    repair = len(messages) > 1
    if user.startswith("Rewrite"):
        if "PAIR1" in user:
            return ""  # always empty: missing after the repair retries
        if "PAIR0" in user and not repair:
            return "   "  # empty once, then a real rewrite
        return "a much worse answer"
    if user.startswith("Write a response"):
        return "let us talk about the weather"
    return "maybe" if "PAIR2" in user else "Grade: 5"  # PAIR2's grade never parses


def test_empty_rewrite_and_unparseable_grade_are_asked_again_then_missing(tmp_path):
    pairs = pl.DataFrame(
        {
            "prompt": [f"question PAIR{i}" for i in range(4)],
            "chosen": [f"good answer {i}" for i in range(4)],
            "rejected": [f"bad answer {i}" for i in range(4)],
        }
    )
    cfg = TripleConfig(rewrite_backend="f", max_triples=None, min_grade=4)
    with FakeOpenAI(respond) as server:
        params = {
            "rewrite": {
                "llm": {"backends": {"f": openai_backend(server, malformed_retries=1)}},
                "cache_path": str(tmp_path / "llm.sqlite"),
                "task_description": "be helpful",
            }
        }
        triples = rewrite_stage_triples(pairs, cfg, params)
        first = len(server.requests)
        again = rewrite_stage_triples(pairs, cfg, params)
        second = len(server.requests) - first

    # PAIR1 (empty rewrite) and PAIR2 (no grade) are dropped; PAIR0 recovered on repair
    assert triples["text_pos"].to_list() == ["good answer 0", "good answer 3"]
    assert triples["text_neg"].to_list() == ["a much worse answer"] * 2
    assert triples["grade"].to_list() == [5, 5]
    asked = [r["messages"][0]["content"] for r in server.requests[:first]]
    pair1 = [u for u in asked if u.startswith("Rewrite") and "PAIR1" in u]
    assert len(pair1) == 2  # asked, then asked again once (malformed_retries=1)
    # nothing malformed was cached: a rerun asks exactly the two missing items again
    assert again.equals(triples)
    assert second == 2 * 2  # PAIR1's rewrite and PAIR2's grade, each asked + repaired
