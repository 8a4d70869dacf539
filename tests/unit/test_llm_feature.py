"""Branch W's describer/annotator over the openai backend and the fake server."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.fake_openai import FakeOpenAI, Reply, annotate_by_word, openai_backend, task_text

from prefscope.interpret.backend import Annotator, Describer, PairText
from prefscope.interpret.factory import make_backends
from prefscope.llm import FeatureBackend, make_feature_backend
from prefscope.llm.prompts import ANNOTATE_SYSTEM, DESCRIBE_SYSTEM

SORRY = PairText("Help?", "I am sorry, here it is.", "Here it is.")
PLAIN = PairText("Help?", "Here it is.", "Sure, here.")
BACK = PairText("Help?", "Fine.", "So sorry about that.")


def oracle(request) -> str:
    """A pretend LLM: describes apologies; annotates "apolog*" concepts by the word sorry."""
    system, user = task_text(request)
    if system == DESCRIBE_SYSTEM:
        return '- "apologizes to the user"' if "sorry" in user else '"talks plainly"'
    if system == ANNOTATE_SYSTEM:
        return annotate_by_word(user, "apolog", "sorry")
    return "apology"


@pytest.fixture
def setup(tmp_path):
    with FakeOpenAI(oracle) as server:
        cfg = {
            "cache": str(tmp_path / "llm.sqlite"),
            "backends": {"gpt": openai_backend(server, concurrency=3)},
        }
        yield server, cfg


def test_protocols_and_make_backends(setup):
    _, cfg = setup
    describer, annotator = make_backends("gpt", None, cfg, background=[])
    assert describer is annotator and isinstance(describer, FeatureBackend)
    assert isinstance(describer, Describer) and isinstance(annotator, Annotator)
    assert describer.name == "gpt"


def test_describe_one_call_per_candidate_and_cached(setup):
    server, cfg = setup
    backend = make_feature_backend("gpt", cfg)
    got = backend.describe([[SORRY, PLAIN], [PLAIN], [SORRY]], seed=5)
    assert got == ["apologizes to the user", "talks plainly", "apologizes to the user"]
    assert server.calls == 3 and {r["seed"] for r in server.requests} == {5}
    again = make_feature_backend("gpt", cfg)
    assert again.describe([[SORRY, PLAIN], [PLAIN], [SORRY]], seed=5) == got
    assert server.calls == 3
    usage = again.usage()
    assert (usage["calls"], usage["cache_hits"], usage["cache_misses"]) == (0, 3, 0)


def test_annotate_values_one_call_per_pair(setup):
    server, cfg = setup
    backend = make_feature_backend("gpt", cfg)
    ann = backend.annotate([SORRY, PLAIN, BACK], ["apologizes", "talks plainly", "apology"])
    np.testing.assert_array_equal(ann, [[1, 0, 1], [0, 0, 0], [-1, 0, -1]])
    assert server.calls == 3
    assert ann.dtype == np.float64


def test_annotate_malformed_becomes_nan_and_missing(setup):
    server, cfg = setup
    cfg["backends"]["gpt"]["malformed_retries"] = 1
    cfg["backends"]["gpt"]["concurrency"] = 1
    # requests in order: pair 1, pair 2, pair 1 again (repair); pair 1 is bad both times
    server.push(
        Reply(content='{"1": "A"}'),
        Reply(content='{"1": "B", "2": "Tie"}'),
        Reply(content="A, I think"),
    )
    backend = make_feature_backend("gpt", cfg)
    ann = backend.annotate([SORRY, BACK], ["apologizes", "x"])
    assert np.isnan(ann[0]).all()
    np.testing.assert_array_equal(ann[1], [-1, 0])
    usage = backend.usage()
    assert (usage["malformed"], usage["missing"], usage["calls"]) == (2, 1, 3)


def test_empty_concepts_are_not_asked(setup):
    server, cfg = setup
    ann = make_feature_backend("gpt", cfg).annotate([SORRY], ["", "apologizes", "  "])
    assert np.isnan(ann[0, [0, 2]]).all() and ann[0, 1] == 1
    user = server.requests[0]["messages"][-1]["content"]
    assert "Concepts:\n1. apologizes\n\n" in user
    assert make_feature_backend("gpt", cfg).annotate([SORRY], [""]).shape == (1, 1)
    assert server.calls == 1


def test_short_label(setup):
    server, cfg = setup
    backend = make_feature_backend("gpt", cfg)
    assert backend.short_label("apologizes to the user") == "apology"
    assert backend.short_label("  ") == "" and server.calls == 1
