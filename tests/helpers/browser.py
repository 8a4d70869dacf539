"""A real headless Chromium for the report-page tests (Selenium + Debian's chromium-driver).

:func:`start` returns a driver that records console messages and network requests, or skips
the test with the reason when no Chromium can start; with ``CI=true`` or
``PREFSCOPE_REQUIRE_BROWSER=1`` a missing browser is a failure instead, so CI cannot pass by
skipping (``.ci/run`` installs ``chromium`` and ``chromium-driver``).

The driver never downloads anything: it is given the system ``chromium`` and
``chromedriver`` paths, so Selenium Manager is not consulted.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)


def required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or (
        os.environ.get("PREFSCOPE_REQUIRE_BROWSER") == "1"
    )


def unavailable(reason: str) -> None:
    """Skip, or fail where a browser is required."""
    if required():
        pytest.fail(f"a headless browser is required (CI / PREFSCOPE_REQUIRE_BROWSER) but {reason}")
    pytest.skip(reason)


def _which(names: tuple[str, ...], env: str) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    for name in names:  # Debian installs the driver beside chromium's libraries too
        candidate = Path("/usr/lib/chromium") / name
        if candidate.exists():
            return str(candidate)
    return None


def start(width: int = 1280, height: int = 1600) -> Any:
    """A headless Chromium WebDriver with browser and performance logging on."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("the selenium package is not installed (pip install -e '.[test]')")
    binary = _which(BROWSERS, "PREFSCOPE_CHROMIUM")
    driver_path = _which(DRIVERS, "PREFSCOPE_CHROMEDRIVER")
    if not binary or not driver_path:
        unavailable(
            "chromium and chromedriver are not installed "
            "(Debian: apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        return webdriver.Chrome(options=options, service=Service(driver_path))
    except Exception as exc:
        unavailable(f"chromium could not start: {exc}".splitlines()[0])


@dataclass
class PageVisit:
    """What a page did while loading: console messages and the URLs it requested."""

    console: list[dict] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[dict]:
        return [m for m in self.console if m.get("level") == "SEVERE"]

    @property
    def outside(self) -> list[str]:
        """Requests to anything but the page's own files and inline ``data:`` images."""
        return [u for u in self.requests if not u.startswith(("file://", "data:"))]


def visit(driver: Any, path: Path, settle: float = 0.3) -> PageVisit:
    """Open ``path`` and collect its console messages and requests (logs are drained first)."""
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    time.sleep(settle)
    return collect(driver)


def collect(driver: Any) -> PageVisit:
    out = PageVisit(console=list(driver.get_log("browser")))
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            out.requests.append(message["params"]["request"]["url"])
    return out


def screenshot(driver: Any, path: Path) -> Path:
    """A full-page PNG (the window grows to the document's height, up to 12000 px)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(int(height), 600), 12000))
    driver.save_screenshot(str(path))
    return path


def pixel_std(path: Path) -> float:
    """Standard deviation of the grey levels of an image (0 for a blank page)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        grey = np.asarray(image.convert("L"), dtype=np.float64)
    return float(grey.std())
