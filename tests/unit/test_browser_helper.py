"""The browser tests skip where no Chromium is installed, but fail where one is required."""

from __future__ import annotations

import pytest
from helpers import browser


@pytest.mark.parametrize(
    ("env", "outcome"),
    [
        ({}, pytest.skip.Exception),
        ({"CI": "true"}, pytest.fail.Exception),
        ({"PREFSCOPE_REQUIRE_BROWSER": "1"}, pytest.fail.Exception),
    ],
)
def test_missing_browser_skips_unless_required(monkeypatch, env, outcome):
    for var in ("CI", "PREFSCOPE_REQUIRE_BROWSER"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("PREFSCOPE_CHROMIUM", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(browser.Path, "exists", lambda self: False)
    with pytest.raises(outcome, match="chromium"):
        browser.start()
